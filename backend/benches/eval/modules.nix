# lib.evalModules with 5,000 declared and defined options, then every value read.
{ libPath, n ? 5000 }:
let
  lib = import libPath;
  names = builtins.genList (i: "opt${toString i}") n;
  declarations = {
    options = lib.genAttrs names (_: lib.mkOption { type = lib.types.int; default = 0; });
  };
  definitions = {
    config = lib.genAttrs names (_: lib.mkDefault 1);
  };
  overrides = {
    config.opt0 = 2;
  };
  eval = lib.evalModules { modules = [ declarations definitions overrides ]; };
in
builtins.foldl' (acc: name: acc + eval.config.${name}) 0 names
