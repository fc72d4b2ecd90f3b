# Stand-in for nixpkgs' lib/services/lib.nix (modular services), imported by
# home-manager's services-modular module: the service submodule is built from
# home-manager's own extra root modules only.
{ lib }:
{
  configure =
    {
      extraRootModules ? [ ],
      extraRootSpecialArgs ? { },
      ...
    }:
    {
      serviceSubmodule = lib.types.submoduleWith {
        modules = extraRootModules;
        specialArgs = extraRootSpecialArgs;
      };
    };
  getAssertions = _: _: [ ];
  getWarnings = _: _: [ ];
}
