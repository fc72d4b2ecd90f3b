# Stand-in for nixpkgs' nixos/modules/misc/meta.nix (see assertions.nix beside it).
{ lib, ... }:
{
  options.meta = lib.mkOption {
    type = lib.types.attrsOf lib.types.anything;
    default = { };
  };
}
