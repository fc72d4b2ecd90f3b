# The demo home: files to link (target relative to the home folder) and their contents.
# Bump a `version` and change its `text`, then `strata apply` again: `strata diff` names it.
{
  files = {
    ".config/greeting.txt" = {
      name = "greeting";
      version = "1.0";
      text = "Hello from Strata!\n";
    };
    ".profile-extra" = {
      name = "profile-extra";
      version = "0.1";
      text = "export STRATA_DEMO=1\n";
    };
  };

  # Shell code run at the end of activation (like home-manager's `onChange`).
  onChange = "";
}
