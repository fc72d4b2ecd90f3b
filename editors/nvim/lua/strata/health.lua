--- `:checkhealth strata`: the server binary and version, Neovim, Nix, and the engine in use.
local M = {}

local function run(argv)
  if vim.system then
    local ok, res = pcall(function()
      return vim.system(argv, { text = true }):wait(10000)
    end)
    if not ok then
      return nil, tostring(res)
    end
    if res.code ~= 0 then
      return nil, vim.trim((res.stderr or '') .. (res.stdout or ''))
    end
    return vim.trim(res.stdout or '')
  end
  local out = vim.fn.system(argv)
  if vim.v.shell_error ~= 0 then
    return nil, vim.trim(out)
  end
  return vim.trim(out)
end

--- Runs the checks.
function M.check()
  local strata = require('strata')
  local opts = strata.options or strata.defaults
  vim.health.start('strata: Neovim')
  local v = vim.version()
  local vs = string.format('%d.%d.%d', v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.11') == 1 then
    vim.health.ok('Neovim ' .. vs .. ' (vim.lsp.config / vim.lsp.enable)')
  elseif vim.fn.has('nvim-0.9') == 1 then
    vim.health.ok('Neovim ' .. vs .. ' (vim.lsp.start on FileType)')
  else
    vim.health.error('Neovim ' .. vs .. ' is too old', { 'strata.nvim needs Neovim 0.9 or newer' })
  end
  if not strata.options then
    vim.health.warn("setup() has not been called", { "call require('strata').setup() in your config" })
  end

  vim.health.start('strata: server')
  local bin = opts.cmd[1]
  local path = vim.fn.exepath(bin)
  if path == '' then
    vim.health.error('server binary `' .. bin .. '` not found', {
      'install it: cargo install --locked --path server (in a Strata checkout)',
      "or point setup({ cmd = { '/path/to/strata', 'lsp' } }) at it",
    })
  else
    vim.health.ok('server binary: ' .. path)
    local out, err = run({ path, '--version' })
    if out and out:match('strata') then
      vim.health.ok('server version: ' .. out)
    else
      vim.health.error('`' .. path .. ' --version` failed: ' .. tostring(err or out))
    end
  end
  local clients = require('strata.commands').clients()
  if #clients > 0 then
    vim.health.ok(string.format('%d client(s) running, root %s', #clients, clients[1].config.root_dir or '?'))
  else
    vim.health.info('no client running (open a Nix file)')
  end

  vim.health.start('strata: Nix and engine')
  local nix = run({ 'nix-instantiate', '--version' })
  if nix then
    vim.health.ok('Nix: ' .. nix)
  else
    vim.health.info('Nix is not installed: the native engine will be used')
  end
  local engine = (opts.settings or {}).engine or 'auto'
  local effective = engine
  if engine == 'auto' then
    effective = nix and 'nix' or 'native'
  end
  if engine == 'nix' and not nix then
    vim.health.error('engine = "nix" but Nix is not installed', { 'install Nix, or set settings.engine = "native" or "auto"' })
  else
    vim.health.ok(string.format('engine: %s (setting: %s)', effective, engine))
  end
end

return M
