# Ground truth for the static option extractor: evaluates home-manager's module tree with
# `lib.evalModules` (real nixpkgs lib, stubbed `pkgs`) and lists every option it declares,
# at every depth (sub-options of submodules through `type.getSubOptions`, which names the
# `attrsOf` element `<name>` and the `listOf` element `*`), descending where the manual does.
#
#   . scripts/env.sh
#   nix-instantiate --eval --strict --json scripts/options-ground-truth/ground-truth.nix \
#     --arg hm ../shared/corpus/home-manager --arg nixpkgsLib ../shared/corpus/nixpkgs-lib/lib
#
# Output: a list of { path, file, visible, internal, readOnly, type, shim } records, one per option.
{
  hm,
  nixpkgsLib,
}:
let
  lib = import (hm + "/modules/lib/stdlib-extended.nix") (import nixpkgsLib);
  inherit (lib) types;

  # Just enough of a package set for option *declarations* to evaluate; option values and
  # defaults are never forced.
  fakeDrv = name: {
    type = "derivation";
    inherit name;
    pname = name;
    version = "0";
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
    meta = { };
    passthru = { };
  };
  # Formats' types carry the descriptions nixpkgs gives them ("JSON value", ...).
  format = label: _: {
    type = types.attrsOf types.anything // {
      description = label;
      descriptionClass = "noun";
    };
    generate = name: _: fakeDrv name;
    lib.types = {
      atom = types.anything;
      value = types.anything;
    };
  };
  pkgs = {
    path = ./stub-nixpkgs;
    inherit lib;
    stdenv = {
      hostPlatform = {
        system = "x86_64-linux";
        isLinux = true;
        isDarwin = false;
      };
      isLinux = true;
      isDarwin = false;
    };
    formats = {
      ini = format "INI value";
      iniWithGlobalSection = format "INI value";
      toml = format "TOML value";
      json = format "JSON value";
      yaml = format "YAML 1.1 value";
      yaml_1_1 = format "YAML 1.1 value";
      yaml_1_2 = format "YAML 1.2 value";
      keyValue = format "key-value value";
      gitIni = format "Git INI value";
      lua = format "Lua value";
      xml = format "XML value";
      elixirConf = format "Elixir value";
      javaProperties = format "Java properties value";
      hocon = format "HOCON value";
      php = format "PHP value";
      pythonVars = format "Python value";
      libconfig = format "libconfig value";
      nixConf = format "Nix config value";
      systemd = format "systemd value";
      cdn = format "CDN value";
      plist = format "plist value";
      kdl = format "KDL value";
    };
  };

  hmModules = import (hm + "/modules/modules.nix") {
    inherit pkgs lib;
    check = false;
  };

  evaluated = lib.evalModules {
    modules = hmModules ++ [
      {
        _module.args.pkgs = lib.mkForce pkgs;
        _module.args.pkgsPath = lib.mkForce pkgs.path;
      }
    ];
    class = "homeManager";
    specialArgs.modulesPath = toString (hm + "/modules");
  };

  hmRoot = toString hm;
  inHm = file: lib.hasPrefix hmRoot (toString file);

  entry = opt: {
    path = lib.showOption opt.loc;
    file = lib.removePrefix (hmRoot + "/") (toString (lib.head (opt.declarations ++ [ "?" ])));
    visible = opt.visible or true;
    internal = opt.internal or false;
    readOnly = opt.readOnly or false;
    # The type as the manual renders it.
    type = opt.type.description or null;
    # The option modules of lib declare invisible shims: mkRenamedOptionModule and
    # mkAliasOptionModule one described "Alias of ...", mkRemovedOptionModule and
    # mkChangedOptionModule one with no description. Only invisible options are looked at:
    # descriptions of others may need real packages.
    shim =
      if (opt.visible or true) != false then
        null
      else if !(opt ? description) then
        "removed-or-changed"
      else if lib.hasPrefix "Alias of" opt.description then
        "alias"
      else
        null;
  };

  # Like the manual (`optionAttrSetToDocList`): sub-options of an option that is hidden or
  # `visible = "shallow"` are not listed; that is also what stops recursive submodule types.
  descend = opt: (opt.visible or true) == true && lib.length opt.loc < 24;

  collect =
    tree:
    if lib.isOption tree then
      [ tree ] ++ lib.optionals (descend tree) (collect (tree.type.getSubOptions tree.loc))
    else if lib.isAttrs tree then
      lib.concatMap (name: collect tree.${name}) (lib.attrNames tree)
    else
      [ ];

  options = lib.filter (opt: lib.any inHm opt.declarations) (
    collect (removeAttrs evaluated.options [ "_module" ])
  );
in
map entry options
