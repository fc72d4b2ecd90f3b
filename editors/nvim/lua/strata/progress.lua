--- Compact progress in the message area from `LspProgress` (Neovim 0.10+); quiet otherwise.
local M = {}

--- Text for one progress value: "strata: Building: building 2 of 3 (66%)".
function M.format(value)
  local parts = {}
  if value.title then
    table.insert(parts, value.title)
  end
  if value.message then
    table.insert(parts, value.message)
  end
  local text = 'strata: ' .. table.concat(parts, ': ')
  if value.percentage then
    text = text .. string.format(' (%d%%)', value.percentage)
  end
  return text
end

--- Puts TEXT in the message area (without history); empty text clears it. Replaceable, e.g. to
--- route progress into a statusline component.
function M.show(text)
  vim.api.nvim_echo({ { text, 'MoreMsg' } }, false, {})
end

--- Shows progress of clients named NAME while they report it.
function M.enable(name)
  if vim.fn.has('nvim-0.10') == 0 then
    return
  end
  local group = vim.api.nvim_create_augroup('strata-progress', { clear = true })
  vim.api.nvim_create_autocmd('LspProgress', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if not client or client.name ~= name then
        return
      end
      local value = args.data.params.value or {}
      M.show(value.kind == 'end' and '' or M.format(value))
    end,
  })
end

return M
