#!/usr/bin/env sh
# shellcheck shell=sh
#
# acme.sh DNS API for Open Telekom Cloud DNS through otc-acme-hook: no access
# key on disk, the hook signs with the ECS agency's temporary credentials.
#
# Install: copy this file to ~/.acme.sh/dnsapi/dns_otc_hook.sh, then
#   acme.sh --issue --dns dns_otc_hook --dnssleep 1 -d example.com -d '*.example.com'
# Settings are otc-acme-hook's own environment variables (OTC_*, and the cloud's
# own: OS_*, OVH_*, NCLOUD_*), which acme.sh passes through. OTC_ACME_HOOK_BIN
# names the binary if it is not on PATH. The hook waits until every
# authoritative nameserver serves the value, so --dnssleep 1: without it acme.sh
# sleeps, then polls public DNS-over-HTTPS resolvers for up to 20 minutes.
#
# Renewals remember: at issue time the script saves, in acme.sh's account.conf
# (_saveaccountconf_mutable, as SAVED_<NAME>), the binary's full path and each
# variable the hook reads for the cloud in force that is set in the environment.
# The binary names them (`otc-acme-hook generate acme-sh-vars`: the shared OTC_*
# settings and that cloud's own, e.g. OS_* for OTC, OVH_* for OVHcloud, NCLOUD_*
# for NAVER Cloud); nothing else is saved, so an OpenStack openrc's OS_PASSWORD
# or OS_USERNAME never is. At renewal (_readaccountconf_mutable) they come back,
# so acme.sh's cron job needs neither PATH nor the settings; a variable set at
# renewal wins over the saved one. As with acme.sh's own DNS APIs, a secret
# (OS_SECRET_KEY, OVH_CLIENT_SECRET, …) is saved only when it was given in the
# environment; credentials the hook finds itself (the ECS agency, a credentials
# or secret file, the server role) are never written to account.conf.
#
# Values are saved base64-encoded (acme.sh's base64 mode): account.conf is
# sourced by every acme.sh start, and acme.sh writes plain values unescaped
# inside '…', so a quote would break it and $(…) would run. Each value is saved
# with a final '.', dropped when read: acme.sh hands a value back through a
# command substitution, which would drop trailing newlines. So any value comes
# back byte for byte.

# The list of saved names, itself saved (renewal has no environment to look at).
# An older script saved raw values under DNS_OTC_HOOK_NAMES; they are read once,
# then saved the new way (and the names the hook doesn't read are blanked).
_OTC_HOOK_NAMES_KEY=DNS_OTC_HOOK_VARS
_OTC_HOOK_OLD_NAMES_KEY=DNS_OTC_HOOK_NAMES

# Saves $2 as SAVED_$1, base64-encoded, with the final '.'.
_otc_hook_save() {
  _saveaccountconf_mutable "$1" "$2." base64
}

# Sets _otc_value to what _otc_hook_save saved as $1 ("" if nothing); with $2
# = raw, a value an older script saved as is.
_otc_hook_read() {
  _otc_value="$(_readaccountconf_mutable "$1")"
  if [ "${2:-}" != raw ]; then
    _otc_value="${_otc_value%.}"
  fi
}

# Whether $1 is among the words of $2.
_otc_hook_listed() {
  case " $2 " in
    *" $1 "*) return 0 ;;
  esac
  return 1
}

# Exports $1 from account.conf when the environment lacks it (the environment
# wins over what was saved). $2: raw for an older script's value.
_otc_hook_restore() {
  if eval "[ -z \"\${$1+set}\" ]"; then
    _otc_hook_read "$1" "${2:-}"
    if [ -n "$_otc_value" ]; then
      export "$1=$_otc_value"
    fi
  fi
}

# Loads saved settings the environment lacks, finds the binary, saves both.
# Sets _otc_hook_bin.
_otc_hook_settings() {
  _otc_raw=""
  _otc_hook_read "$_OTC_HOOK_NAMES_KEY"
  _otc_saved="$_otc_value"
  if [ -z "$_otc_saved" ]; then
    _otc_hook_read "$_OTC_HOOK_OLD_NAMES_KEY" raw
    _otc_saved="$_otc_value"
    if [ -n "$_otc_saved" ]; then
      _otc_raw=raw
    fi
  fi

  # First what chooses the binary and the cloud (hence the list below).
  for _otc_name in OTC_ACME_HOOK_BIN OTC_CLOUD OTC_CONFIG; do
    _otc_hook_restore "$_otc_name" "$_otc_raw"
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

  # The variables the hook reads for the cloud in force, from the binary.
  if ! _otc_vars="$("$_otc_hook_bin" generate acme-sh-vars)"; then
    _err "otc-acme-hook generate acme-sh-vars failed (its error is above); this script needs otc-acme-hook of the same release"
    return 1
  fi
  _otc_wanted=""
  _otc_secrets=""
  while read -r _otc_name _otc_kind; do
    case $_otc_name in
      "" | [0-9]* | *[!A-Za-z0-9_]*) continue ;;
    esac
    # A session token expires within hours: read when set, never saved (an
    # older script's saved one is blanked below).
    [ "$_otc_kind" = temporary ] && continue
    _otc_wanted="$_otc_wanted $_otc_name"
    if [ "$_otc_kind" = secret ]; then
      _otc_secrets="$_otc_secrets $_otc_name"
    fi
  done <<EOF_OTC_VARS
$_otc_vars
EOF_OTC_VARS

  # Back from account.conf: what the hook reads. What was saved but is not
  # read (an older script's OS_PASSWORD, another cloud's keys) is blanked there.
  for _otc_name in $_otc_saved; do
    if _otc_hook_listed "$_otc_name" "$_otc_wanted"; then
      _otc_hook_restore "$_otc_name" "$_otc_raw"
    elif [ "$_otc_name" != OTC_ACME_HOOK_BIN ]; then
      case $_otc_name in
        "" | [0-9]* | *[!A-Za-z0-9_]*) continue ;;
      esac
      _saveaccountconf_mutable "$_otc_name" "" base64
    fi
  done

  # Save each variable the hook reads that is set now (names only on the debug
  # log, secrets marked: no value, not even an access key id, is logged).
  _otc_names=""
  _otc_shown=""
  for _otc_name in $_otc_wanted; do
    if eval "[ -n \"\${$_otc_name:-}\" ]"; then
      eval "_otc_value=\"\$$_otc_name\""
      _otc_hook_save "$_otc_name" "$_otc_value"
      _otc_names="$_otc_names $_otc_name"
      if _otc_hook_listed "$_otc_name" "$_otc_secrets"; then
        _otc_shown="$_otc_shown $_otc_name(secret)"
      else
        _otc_shown="$_otc_shown $_otc_name"
      fi
    fi
  done
  _debug "otc-acme-hook settings saved" "${_otc_shown# }"
  _otc_hook_save OTC_ACME_HOOK_BIN "$OTC_ACME_HOOK_BIN"
  _otc_hook_save "$_OTC_HOOK_NAMES_KEY" "${_otc_names# }"
  if [ -n "$_otc_raw" ]; then
    _saveaccountconf_mutable "$_OTC_HOOK_OLD_NAMES_KEY" "" base64
  fi
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
