-- wrk script of bench/partner_api.py, put before serving.WRK_COUNTING: POSTs with JSON bodies, each with the next
-- card number of a file, so that every call looks up another card (in its body: never a card number in a URL).
-- Arguments after `--`: the numbers file, the kind of call (lookup, verify or purchase) and, for purchases, a run
-- id that keeps receipt ids unique across runs and threads.
local numbers = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then numbers[#numbers + 1] = line end
  end
  kind = args[2]
  run_id = args[3] or "run"
  sent = 0
  -- Each thread starts at another place of the list.
  position = (thread_number or 1) * 7919 % #numbers
end

function request()
  position = position % #numbers + 1
  sent = sent + 1
  local body
  if kind == "purchase" then
    body = string.format('{"card":"%s","receipt_id":"%s-%d-%d","amount":%d}',
      numbers[position], run_id, thread_number or 1, sent, 10000 + sent % 90000)
  else
    body = string.format('{"card":"%s"}', numbers[position])
  end
  return wrk.format("POST", nil, nil, body)
end
