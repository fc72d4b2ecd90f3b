{
  description = "A home configuration that builds offline, for Apply on a temporary profile";

  outputs = { self }: {
    homeConfigurations.e2e.activationPackage = derivation {
      name = "home-manager-generation";
      system = "x86_64-linux";
      builder = "/bin/sh";
      args = [
        "-c"
        ''
          echo "strata-e2e: building the home generation"
          /bin/mkdir -p $out
          printf '#!/bin/sh\necho "strata-e2e: activated"\n' > $out/activate
          /bin/chmod +x $out/activate
        ''
      ];
    };
  };
}
