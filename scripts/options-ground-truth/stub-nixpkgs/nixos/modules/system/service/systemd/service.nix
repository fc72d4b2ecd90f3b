# Stand-in for nixpkgs' portable systemd service module (see lib/services/lib.nix).
{ lib, ... }:
{
  options.systemd.services = lib.mkOption {
    type = lib.types.attrsOf (lib.types.attrsOf lib.types.anything);
    default = { };
  };
}
