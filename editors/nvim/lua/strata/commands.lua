--- `:StrataApply`, `:StrataBuild`, `:StrataRollback [N]`, `:StrataGenerations`, `:StrataLog`:
--- the server's `workspace/executeCommand` commands (one argument object each) with a
--- work-done token, results through `vim.notify`.
local M = {}

local function strata()
  return require('strata')
end

local function name()
  return (strata().options or strata().defaults).name
end

local function get_clients(filter)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients(filter)
  end
  return vim.lsp.get_active_clients(filter) ---@diagnostic disable-line: deprecated
end

--- Running Strata clients, the one attached to the current buffer first.
function M.clients()
  local attached = get_clients({ name = name(), bufnr = 0 })
  local all = get_clients({ name = name() })
  for _, c in ipairs(all) do
    if not vim.tbl_contains(attached, c) then
      table.insert(attached, c)
    end
  end
  return attached
end

local function notify(msg, level)
  vim.notify(msg, level or vim.log.levels.INFO, { title = 'strata' })
end

--- The client to use for COMMAND, or nil after telling the user why there is none.
local function client_for(command)
  local client = M.clients()[1]
  if not client then
    notify('the Strata server is not running (open a Nix file, or see :checkhealth strata)', vim.log.levels.ERROR)
    return nil
  end
  local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
  local commands = provider and provider.commands or {}
  if not vim.tbl_contains(commands, command) then
    notify(string.format('this Strata server does not offer `%s` yet: update the server', command), vim.log.levels.ERROR)
    return nil
  end
  return client
end

--- Attribute paths of configurations in a flake.nix text (textual scan of the common forms).
function M.configurations_in_flake(text)
  text = text:gsub('/%*.-%*/', ''):gsub('#[^\n]*', '')
  local found, seen = {}, {}
  local function add(kind, attr)
    local p = kind .. '.' .. attr
    if not seen[p] then
      seen[p] = true
      table.insert(found, p)
    end
  end
  for _, kind in ipairs({ 'nixosConfigurations', 'homeConfigurations', 'darwinConfigurations' }) do
    for attr in text:gmatch('%f[%w_]' .. kind .. '%.([%a_][%w_\'%-]*)[%s%.%w_"\']-=') do
      add(kind, attr)
    end
    for attr in text:gmatch('%f[%w_]' .. kind .. '%.("[^"]+")[%s%.%w_"\']-=') do
      add(kind, attr)
    end
    -- Nested form: `nixosConfigurations = { host = ...; };` (top-level names of the set).
    local s = text:find('%f[%w_]' .. kind .. '%s*=%s*[%w_.]*%s*{')
    if s then
      local open = text:find('{', s, true)
      local depth, i, stmt = 1, open + 1, open + 1
      while i <= #text and depth > 0 do
        local ch = text:sub(i, i)
        if ch == '{' or ch == '[' or ch == '(' then
          depth = depth + 1
        elseif ch == '}' or ch == ']' or ch == ')' then
          depth = depth - 1
        elseif ch == '"' then
          local close = text:find('"', i + 1, true)
          i = close or i
        elseif depth == 1 and ch == ';' then
          stmt = i + 1
        elseif depth == 1 and ch == '=' and text:sub(i + 1, i + 1) ~= '=' and not ('=!<>'):find(text:sub(i - 1, i - 1), 1, true) then
          local lhs = vim.trim(text:sub(stmt, i - 1))
          local attr = lhs:match('^([%a_][%w_\'%-]*)%s*%.') or lhs:match('^([%a_][%w_\'%-]*)$') or lhs:match('^("[^"]+")')
          if attr then
            add(kind, attr)
          end
          stmt = i + 1
        end
        i = i + 1
      end
    end
  end
  return found
end

--- Installables (`DIR#attr`) of the flakes under ROOT.
function M.configurations(root)
  local out = {}
  local flakes = vim.fs.find('flake.nix', { path = root, type = 'file', limit = 20 })
  for _, f in ipairs(flakes) do
    local fd = io.open(f, 'r')
    if fd then
      local text = fd:read('*a')
      fd:close()
      for _, attr in ipairs(M.configurations_in_flake(text)) do
        table.insert(out, vim.fs.dirname(f) .. '#' .. attr)
      end
    end
  end
  return out
end

--- Calls ON_CHOICE with the installable to act on: ARG, else the only one, else a choice.
local function choose_configuration(client, arg, purpose, on_choice)
  if arg and arg ~= '' then
    return on_choice(arg)
  end
  local root = client.config.root_dir or client.root_dir or vim.fn.getcwd()
  local all = M.configurations(root)
  if #all == 1 then
    return on_choice(all[1])
  elseif #all > 1 then
    vim.ui.select(all, { prompt = purpose .. ': which configuration?' }, function(choice)
      if choice then
        on_choice(choice)
      end
    end)
  else
    vim.ui.input({ prompt = purpose .. ' (FLAKEDIR#ATTR): ', default = root .. '#' }, function(input)
      if input and input ~= '' then
        on_choice(input)
      end
    end)
  end
end

local token_counter = 0

--- Sends COMMAND with ARG; ON_RESULT(err, result). The request carries a work-done token so that
--- progress shows through `LspProgress` even if the server creates none of its own.
function M.execute(client, command, arg, on_result)
  token_counter = token_counter + 1
  local params = {
    command = command,
    arguments = { arg },
    workDoneToken = string.format('strata-nvim-%d-%d', vim.fn.getpid(), token_counter),
  }
  local handler = function(err, result)
    on_result(err, result)
  end
  if vim.fn.has('nvim-0.11') == 1 then
    client:request('workspace/executeCommand', params, handler)
  else
    client.request('workspace/executeCommand', params, handler)
  end
end

--- The generation number in a command result, when there is one.
function M.generation_of(result)
  if type(result) == 'number' then
    return result
  end
  if type(result) == 'table' then
    for _, k in ipairs({ 'generation', 'newGeneration', 'number' }) do
      local v = result[k]
      if type(v) == 'number' then
        return v
      elseif type(v) == 'table' and type(v.number) == 'number' then
        return v.number
      end
    end
  end
  return nil
end

--- Generations from a `strata.generations` result, newest first: { number, date, current }.
function M.parse_generations(result)
  local list, current = result, nil
  if type(result) == 'table' and result.generations then
    list, current = result.generations, result.current
  end
  local out = {}
  for _, g in ipairs(type(list) == 'table' and list or {}) do
    local n = g.number or g.generation or g.id
    if type(n) == 'number' then
      local date = g.date or g.created or g.time or ''
      if type(date) == 'number' then
        date = os.date('!%Y-%m-%d %H:%M:%SZ', date < 1e12 and date or math.floor(date / 1000))
      end
      table.insert(out, { number = n, date = date, current = g.current == true or g.isCurrent == true or n == current })
    end
  end
  table.sort(out, function(a, b)
    return a.number > b.number
  end)
  return out
end

--- One line of the `:StrataGenerations` list.
function M.format_generation(g)
  return string.format('%4d  %s%s', g.number, g.date, g.current and '  (current)' or '')
end

local function message_of_error(err)
  return type(err) == 'table' and (err.message or vim.inspect(err)) or tostring(err)
end

local function summary_of(result)
  if type(result) == 'table' then
    return result.summary or result.message or result.diff
  end
  return type(result) == 'string' and result or nil
end

local function run_build(command, arg)
  local client = client_for(command)
  if not client then
    return
  end
  local verb = command == 'strata.apply' and 'Apply' or 'Build'
  choose_configuration(client, arg, verb, function(installable)
    strata().build_log = { string.format('%s %s (%s)', verb, installable, os.date('!%Y-%m-%dT%H:%M:%SZ')) }
    M.execute(client, command, { installable = installable }, function(err, result)
      if err then
        table.insert(strata().build_log, 'failed: ' .. message_of_error(err))
        notify(string.format('%s of %s failed: %s (see :StrataLog)', verb, installable, message_of_error(err)), vim.log.levels.ERROR)
        return
      end
      local gen = M.generation_of(result)
      local summary = summary_of(result)
      local text
      if command == 'strata.apply' then
        text = string.format('applied %s%s', installable, gen and (': generation ' .. gen) or '')
      else
        text = string.format('built %s', installable)
      end
      if summary then
        text = text .. ' — ' .. summary
      end
      table.insert(strata().build_log, text)
      notify(text)
    end)
  end)
end

--- `:StrataApply [INSTALLABLE]`.
function M.apply(arg)
  run_build('strata.apply', arg)
end

--- `:StrataBuild [INSTALLABLE]`.
function M.build(arg)
  run_build('strata.build', arg)
end

local function switch(client, installable, to)
  local arg = { installable = installable, to = to }
  M.execute(client, 'strata.rollback', arg, function(err, result)
    if err then
      notify('rollback failed: ' .. message_of_error(err), vim.log.levels.ERROR)
      return
    end
    local gen = M.generation_of(result) or to
    notify(string.format('switched %s%s', installable, gen and (' to generation ' .. gen) or ''))
  end)
end

--- `:StrataRollback [N]`: to the previous generation, or to generation N.
function M.rollback(n)
  local client = client_for('strata.rollback')
  if not client then
    return
  end
  local to = tonumber(n)
  if n and n ~= '' and not to then
    notify('usage: :StrataRollback [GENERATION]', vim.log.levels.ERROR)
    return
  end
  choose_configuration(client, nil, 'Roll back', function(installable)
    switch(client, installable, to)
  end)
end

--- `:StrataGenerations`: pick one, confirm, switch to it.
function M.generations()
  local client = client_for('strata.generations')
  if not client then
    return
  end
  choose_configuration(client, nil, 'Generations', function(installable)
    M.execute(client, 'strata.generations', { installable = installable }, function(err, result)
      if err then
        notify('listing generations failed: ' .. message_of_error(err), vim.log.levels.ERROR)
        return
      end
      local gens = M.parse_generations(result)
      if #gens == 0 then
        notify(installable .. ' has no generations yet: :StrataApply first')
        return
      end
      vim.ui.select(gens, { prompt = 'Generations of ' .. installable, format_item = M.format_generation }, function(g)
        if not g then
          return
        end
        if g.current then
          notify(string.format('generation %d is already the current one', g.number))
          return
        end
        vim.ui.select({ 'Switch', 'Cancel' }, { prompt = string.format('Switch to generation %d?', g.number) }, function(answer)
          if answer == 'Switch' then
            switch(client, installable, g.number)
          end
        end)
      end)
    end)
  end)
end

--- `:StrataLog`: the last build log in a scratch buffer.
function M.log()
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, #strata().build_log > 0 and strata().build_log or { '(no build yet)' })
  vim.bo[buf].modifiable = false
  vim.api.nvim_buf_set_name(buf, 'strata://build-log/' .. buf)
  vim.cmd('split')
  vim.api.nvim_win_set_buf(0, buf)
  return buf
end

--- Buffer-local `<Plug>` maps for BUFNR (no default keys: see :help strata-mappings).
function M.attach_plug_maps(bufnr)
  local maps = {
    ['<Plug>(strata-apply)'] = M.apply,
    ['<Plug>(strata-build)'] = M.build,
    ['<Plug>(strata-rollback)'] = function()
      M.rollback()
    end,
    ['<Plug>(strata-generations)'] = M.generations,
    ['<Plug>(strata-log)'] = M.log,
  }
  for lhs, fn in pairs(maps) do
    vim.keymap.set('n', lhs, function()
      fn()
    end, { buffer = bufnr, desc = 'strata: ' .. lhs:match('%((.-)%)') })
  end
end

return M
