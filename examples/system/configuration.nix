# The demo system: a host name, a version and files for /etc.
{
  hostName = "demo";
  version = "24.05";
  etc = {
    motd = {
      name = "motd";
      version = "1.0";
      text = "Welcome to the Strata demo system.\n";
    };
    hostname = {
      name = "hostname";
      version = "1";
      text = "demo\n";
    };
  };
}
