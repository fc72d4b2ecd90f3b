# A small module that `strata check` reads without complaint.
{ lib, ... }:
let
  greeting = "hello";
in
{
  options.demo.message = lib.mkOption {
    type = lib.types.str;
    default = greeting;
    description = "What the demo prints.";
  };
}
