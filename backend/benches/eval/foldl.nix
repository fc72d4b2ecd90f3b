# A strict left fold over a million-element list.
builtins.foldl' (acc: x: acc + x) 0 (builtins.genList (x: x * 2) 1000000)
