# A system configuration in NixOS's shape, without nixpkgs: the top level
# `nixosConfigurations.demo.config.system.build.toplevel` carries `etc/` files built into
# the store and a `bin/switch-to-configuration` that records each activation in
# $STRATA_DEMO_SYSTEM (default: `demo-system` under Strata's state folder).
#
#   strata apply .#nixosConfigurations.demo --profile /tmp/demo-system-profile
{
  description = "Strata demo system configuration (self-contained)";

  outputs = { self, ... }:
    let
      system = "x86_64-linux";
      config = import ./configuration.nix;

      # Builders run with an empty PATH: only sh builtins and absolute tool paths.
      mkEtc = _target: file: derivation {
        inherit system;
        name = "etc-${file.name}-${file.version}";
        builder = "/bin/sh";
        args = [ "-c" ''/bin/mkdir -p "$out" && printf '%s' "$text" > "$out/file"'' ];
        text = file.text;
      };

      etc = builtins.mapAttrs mkEtc config.etc;

      toplevel = derivation {
        inherit system;
        name = "nixos-system-${config.hostName}-${config.version}";
        builder = "/bin/sh";
        switchScript = ./switch-to-configuration.sh;
        etcLinks = builtins.concatStringsSep "\n"
          (map (t: "${t} ${etc.${t}}/file") (builtins.attrNames etc));
        args = [
          "-c"
          ''
            /bin/mkdir -p "$out/bin" "$out/etc"
            printf '%s\n' "$etcLinks" | while read -r t f; do
              [ -n "$t" ] && /bin/ln -s "$f" "$out/etc/$t"
            done
            /bin/cp "$switchScript" "$out/bin/switch-to-configuration"
            /bin/chmod 555 "$out/bin/switch-to-configuration"
          ''
        ];
      };
    in
    {
      nixosConfigurations.demo.config.system.build.toplevel = toplevel;
    };
}
