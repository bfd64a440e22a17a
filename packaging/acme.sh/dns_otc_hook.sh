#!/usr/bin/env sh
# shellcheck shell=sh
#
# acme.sh DNS API for Open Telekom Cloud DNS through otc-acme-hook: no access
# key on disk, the hook signs with the ECS agency's temporary credentials.
#
# Install: copy this file to ~/.acme.sh/dnsapi/dns_otc_hook.sh, then
#   acme.sh --issue --dns dns_otc_hook -d example.com -d '*.example.com'
# Settings are otc-acme-hook's own environment variables (OTC_*, OS_*), which
# acme.sh passes through. OTC_ACME_HOOK_BIN names the binary if it is not on PATH.
# The hook waits until every authoritative nameserver serves the value, so
# acme.sh's own wait (--dnssleep) can stay short.
#
# Renewals remember: at issue time the script saves the binary's full path and
# every OTC_*/OS_* variable then in the environment in acme.sh's account.conf
# (_saveaccountconf_mutable, as SAVED_<NAME>), and reads them back at renewal
# (_readaccountconf_mutable), so acme.sh's cron job needs neither PATH nor the
# settings. A variable set at renewal wins over the saved one. As with acme.sh's
# own DNS APIs, a secret (OS_SECRET_KEY, OS_SECURITY_TOKEN, …) is saved only
# when it was given in the environment; credentials the hook finds itself (the
# ECS agency, a credentials file) are never written to account.conf.

# The list of saved names, itself saved (renewal has no environment to look at).
_OTC_HOOK_NAMES_KEY=DNS_OTC_HOOK_NAMES

# Loads saved settings the environment lacks, finds the binary, saves both.
# Sets _otc_hook_bin.
_otc_hook_settings() {
  _otc_saved="$(_readaccountconf_mutable "$_OTC_HOOK_NAMES_KEY")"
  for _otc_name in $_otc_saved; do
    case $_otc_name in
      OTC_* | OS_*) ;;
      *) continue ;;
    esac
    case $_otc_name in
      *[!A-Za-z0-9_]*) continue ;;
    esac
    # The environment wins over what was saved.
    if eval "[ -z \"\${$_otc_name+set}\" ]"; then
      _otc_value="$(_readaccountconf_mutable "$_otc_name")"
      if [ -n "$_otc_value" ]; then
        export "$_otc_name=$_otc_value"
      fi
    fi
  done

  # The binary: OTC_ACME_HOOK_BIN (given or saved), else otc-acme-hook on PATH;
  # saved as a full path, since cron's PATH may not hold it.
  _otc_hook_bin="${OTC_ACME_HOOK_BIN:-}"
  if [ -z "$_otc_hook_bin" ] || [ ! -x "$_otc_hook_bin" ]; then
    _otc_hook_bin="$(command -v otc-acme-hook 2>/dev/null)" || _otc_hook_bin=""
  fi
  if [ -z "$_otc_hook_bin" ]; then
    _err "otc-acme-hook not found: put it on PATH or set OTC_ACME_HOOK_BIN to its full path"
    return 1
  fi
  case $_otc_hook_bin in
    /*) ;;
    *) _otc_hook_bin="$(pwd)/$_otc_hook_bin" ;;
  esac
  OTC_ACME_HOOK_BIN="$_otc_hook_bin"
  export OTC_ACME_HOOK_BIN

  # Save every OTC_*/OS_* variable now set (names only on the debug log: values
  # may be secrets).
  _otc_names=""
  for _otc_name in $(env | sed -n -e 's/^\(OTC_[A-Za-z0-9_]*\)=.*/\1/p' -e 's/^\(OS_[A-Za-z0-9_]*\)=.*/\1/p' | sort -u); do
    # A line of a multi-line value is not a variable.
    if eval "[ -n \"\${$_otc_name+set}\" ]"; then
      eval "_otc_value=\"\$$_otc_name\""
      _saveaccountconf_mutable "$_otc_name" "$_otc_value"
      _otc_names="$_otc_names $_otc_name"
    fi
  done
  _debug "otc-acme-hook settings saved" "$_otc_names"
  _saveaccountconf_mutable "$_OTC_HOOK_NAMES_KEY" "${_otc_names# }"
}

dns_otc_hook_add() {
  fulldomain="$1"
  txtvalue="$2"
  _info "otc-acme-hook: adding TXT value at $fulldomain"
  _debug fulldomain "$fulldomain"
  _debug txtvalue "$txtvalue"
  _otc_hook_settings || return 1
  # lego's default contract: FQDN with its trailing dot, then the value.
  if "$_otc_hook_bin" present "$fulldomain." "$txtvalue"; then
    return 0
  fi
  _err "otc-acme-hook could not add the TXT value at $fulldomain (its error is above)"
  return 1
}

dns_otc_hook_rm() {
  fulldomain="$1"
  txtvalue="$2"
  _info "otc-acme-hook: removing TXT value at $fulldomain"
  _debug fulldomain "$fulldomain"
  _debug txtvalue "$txtvalue"
  _otc_hook_settings || return 1
  if "$_otc_hook_bin" cleanup "$fulldomain." "$txtvalue"; then
    return 0
  fi
  _err "otc-acme-hook could not remove the TXT value at $fulldomain (its error is above)"
  return 1
}
