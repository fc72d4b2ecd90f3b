# Stand-in for nixpkgs' nixos/modules/misc/assertions.nix, which home-manager's module list
# imports from `pkgs.path`. Only the option names matter to the ground-truth count, and
# options declared here are outside home-manager, so they are not counted.
{ lib, ... }:
{
  options.assertions = lib.mkOption {
    type = lib.types.listOf lib.types.unspecified;
    default = [ ];
  };
  options.warnings = lib.mkOption {
    type = lib.types.listOf lib.types.str;
    default = [ ];
  };
}
