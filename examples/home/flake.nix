# A home configuration in home-manager's shape, without nixpkgs or home-manager:
# `homeConfigurations.demo.activationPackage` has an `activate` script that links the
# files of ./home.nix (each built into the store as `name-version`) into
# $STRATA_DEMO_HOME (default: `demo-home` under Strata's state folder).
#
#   strata apply .#homeConfigurations.demo --profile /tmp/demo-profile
{
  description = "Strata demo home configuration (self-contained)";

  outputs = { self, ... }:
    let
      system = "x86_64-linux";
      home = import ./home.nix;

      # Builders run with an empty PATH: only sh builtins and absolute tool paths.
      mkFile = _target: file: derivation {
        inherit system;
        name = "${file.name}-${file.version}";
        builder = "/bin/sh";
        args = [ "-c" ''/bin/mkdir -p "$out" && printf '%s' "$text" > "$out/file"'' ];
        text = file.text;
      };

      files = builtins.mapAttrs mkFile home.files;

      # One line per file: `TARGET STORE-FILE`; the store paths make the files part of
      # the activation package's closure.
      links = builtins.concatStringsSep "\n"
        (map (target: "${target} ${files.${target}}/file") (builtins.attrNames files));
    in
    {
      homeConfigurations.demo.activationPackage = derivation {
        inherit system links;
        name = "home-manager-generation";
        builder = "/bin/sh";
        activateScript = ./activate.sh;
        onChange = home.onChange or "";
        args = [
          "-c"
          ''
            /bin/mkdir -p "$out"
            printf '%s\n' "$links" > "$out/links"
            /bin/cp "$activateScript" "$out/activate"
            /bin/chmod 555 "$out/activate"
            if [ -n "$onChange" ]; then
              printf '#!/bin/sh\n%s\n' "$onChange" > "$out/on-change"
              /bin/chmod 555 "$out/on-change"
            fi
          ''
        ];
      };
    };
}
