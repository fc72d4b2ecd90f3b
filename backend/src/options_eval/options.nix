# The evaluated option source (backend/src/options_eval/mod.rs): evaluates home-manager's
# module tree with `lib.evalModules` on a real nixpkgs lib and a stubbed `pkgs`, and lists
# every option declared in the home-manager tree at every depth, the way the manual lists
# them (sub-options of `attrsOf`/`listOf` submodules as `<name>`/`*`; no descent below
# hidden or `visible = "shallow"` options, which also ends recursive submodule types).
#
# Every field of a record is left lazy: the caller forces them one at a time, so a default
# that needs a real package (which the stub set lacks) loses only that field.
{
  hm,
  nixpkgsLib,
  stubs,
}:
let
  hmPath = /. + hm;
  lib = import (hmPath + "/modules/lib/stdlib-extended.nix") (import (/. + nixpkgsLib));
  inherit (lib) types;

  # Just enough of a package set for option declarations to evaluate.
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
    path = /. + stubs;
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

  hmModules = import (hmPath + "/modules/modules.nix") {
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
    specialArgs.modulesPath = toString (hmPath + "/modules");
  };

  inHm = file: lib.hasPrefix (hm + "/") (toString file);

  # The type's structure, enough for the checkable shape (TypeShape on the Rust side).
  shapeOf =
    depth: t:
    {
      name = t.name or "unspecified";
      nested = if depth > 6 then { } else lib.mapAttrs (_: shapeOf (depth + 1)) (t.nestedTypes or { });
    }
    // lib.optionalAttrs ((t.name or "") == "enum") {
      values = map builtins.toJSON (t.functor.payload.values or [ ]);
    };

  # `literalExpression`/`literalMD` text, or the value pretty-printed as Nix.
  render = v: (lib.options.renderOptionValue v).text;
  text = d: if builtins.isAttrs d then d.text or null else d;

  entry = opt: {
    loc = opt.loc;
    type = opt.type.description or null;
    shape = shapeOf 0 opt.type;
    default =
      if opt ? defaultText then
        render opt.defaultText
      else if opt ? default then
        render opt.default
      else
        null;
    example = if opt ? example then render opt.example else null;
    description = if opt ? description then text opt.description else null;
    # Positions where the module system has them (not for options that lib's rename
    # modules declare on a module's behalf: those get the file only).
    declarations =
      let
        positioned = lib.filter (p: inHm p.file) (opt.declarationPositions or [ ]);
      in
      if positioned != [ ] then
        positioned
      else
        map (file: {
          inherit file;
          line = 0;
          column = 0;
        }) (lib.filter inHm opt.declarations);
    readOnly = opt.readOnly or false;
    visible = opt.visible or true;
    internal = opt.internal or false;
  };

  descend = opt: (opt.visible or true) == true && lib.length opt.loc < 24;

  collect =
    tree:
    if lib.isOption tree then
      [ tree ] ++ lib.optionals (descend tree) (collect (tree.type.getSubOptions tree.loc))
    else if lib.isAttrs tree then
      lib.concatMap (name: collect tree.${name}) (lib.attrNames tree)
    else
      [ ];
in
map entry (
  lib.filter (opt: lib.any inHm opt.declarations) (
    collect (removeAttrs evaluated.options [ "_module" ])
  )
)
