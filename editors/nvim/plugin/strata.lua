-- User commands of strata.nvim; the server itself is registered by require('strata').setup().
if vim.fn.has('nvim-0.9') == 0 then
  return
end

local function cmd(name, fn, opts)
  vim.api.nvim_create_user_command(name, function(args)
    fn(args.args)
  end, opts)
end

cmd('StrataApply', function(a)
  require('strata.commands').apply(a)
end, { nargs = '?', desc = 'Build and switch to a configuration' })
cmd('StrataBuild', function(a)
  require('strata.commands').build(a)
end, { nargs = '?', desc = 'Build a configuration (dry run)' })
cmd('StrataRollback', function(a)
  require('strata.commands').rollback(a)
end, { nargs = '?', desc = 'Switch to the previous generation, or to generation N' })
cmd('StrataGenerations', function()
  require('strata.commands').generations()
end, { nargs = 0, desc = 'List generations and switch to one' })
cmd('StrataLog', function()
  require('strata.commands').log()
end, { nargs = 0, desc = 'Show the last build log' })
