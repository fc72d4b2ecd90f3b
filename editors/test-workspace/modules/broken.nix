{ config, lib, ... }:
let
  greeting = "hello from strata";
  shellName = "bash";
in
{
  environment.etc."motd".text = greting;
  users.defaultUserShell = shellName;
}
