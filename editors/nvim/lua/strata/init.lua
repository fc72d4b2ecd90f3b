--- Strata for Neovim: registers the `strata lsp` server for Nix buffers and adds the
--- Apply / Build / Rollback / Generations commands. See `:help strata`.
local M = {}

--- Defaults of `setup()`; see `:help strata-setup`.
M.defaults = {
  --- Command that starts the server.
  cmd = { 'strata', 'lsp' },
  --- Client name: commands and health look clients up by it.
  name = 'strata',
  --- File types the server attaches to.
  filetypes = { 'nix' },
  --- The server's `strata` settings section (engine, apply.*, diagnostics.*, ...).
  settings = {},
  --- false: do not register the server (you start it yourself, e.g. with nvim-lspconfig).
  lsp = true,
  --- Called with (client, bufnr) when the server attaches to a buffer.
  on_attach = nil,
}

--- The options in effect after `setup()`; nil before.
M.options = nil

--- Last build log lines, for `:StrataLog` (kept in the module table, not in globals).
M.build_log = {}

--- Root of BUFNR's project: the nearest folder with a flake.nix, else with .git, else the file's folder.
function M.root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return nil
  end
  local start = vim.fs.dirname(name)
  for _, marker in ipairs({ 'flake.nix', '.git' }) do
    local found = vim.fs.find(marker, { path = start, upward = true, limit = 1 })[1]
    if found then
      return vim.fs.dirname(found)
    end
  end
  return start
end

local function on_log_message(_, result, ctx)
  -- Build log lines come as LSP MessageType.Log (4): keep them for :StrataLog.
  if result and result.type == 4 then
    table.insert(M.build_log, result.message)
    return
  end
  return vim.lsp.handlers['window/logMessage'](nil, result, ctx)
end

local function on_attach(client, bufnr)
  require('strata.commands').attach_plug_maps(bufnr)
  if M.options.on_attach then
    M.options.on_attach(client, bufnr)
  end
end

--- The client configuration shared by the 0.11 and the 0.9/0.10 paths.
function M.client_config()
  local o = M.options
  return {
    name = o.name,
    cmd = o.cmd,
    filetypes = o.filetypes,
    settings = { strata = o.settings },
    init_options = o.settings,
    handlers = { ['window/logMessage'] = on_log_message },
    on_attach = on_attach,
  }
end

--- Sets the plugin up; call once from your config. OPTS as in `M.defaults`.
function M.setup(opts)
  if vim.fn.has('nvim-0.9') == 0 then
    vim.notify('strata.nvim needs Neovim 0.9 or newer', vim.log.levels.ERROR)
    return
  end
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  require('strata.progress').enable(M.options.name)
  if not M.options.lsp then
    return
  end
  local cfg = M.client_config()
  if vim.lsp.config and vim.lsp.enable then
    -- Neovim 0.11+: the built-in registry; `root_dir` as a function picks flake.nix over .git.
    cfg.root_dir = function(bufnr, on_dir)
      local root = M.root_dir(bufnr)
      if root then
        on_dir(root)
      end
    end
    vim.lsp.config(cfg.name, cfg)
    vim.lsp.enable(cfg.name)
  else
    local group = vim.api.nvim_create_augroup('strata', { clear = true })
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      pattern = cfg.filetypes,
      callback = function(args)
        local root = M.root_dir(args.buf)
        if not root then
          return
        end
        local c = vim.deepcopy(cfg)
        c.root_dir = root
        c.on_attach = on_attach
        c.handlers = cfg.handlers
        vim.lsp.start(c, { bufnr = args.buf })
      end,
    })
  end
end

--- Changes the server settings at run time; running servers get workspace/didChangeConfiguration.
function M.set_settings(settings)
  M.options.settings = settings
  for _, client in ipairs(require('strata.commands').clients()) do
    client.settings = { strata = settings }
    client.notify('workspace/didChangeConfiguration', { settings = { strata = settings } })
  end
end

return M
