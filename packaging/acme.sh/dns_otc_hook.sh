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

dns_otc_hook_add() {
  fulldomain="$1"
  txtvalue="$2"
  _info "otc-acme-hook: adding TXT value at $fulldomain"
  _debug fulldomain "$fulldomain"
  _debug txtvalue "$txtvalue"
  # lego's default contract: FQDN with its trailing dot, then the value.
  if "${OTC_ACME_HOOK_BIN:-otc-acme-hook}" present "$fulldomain." "$txtvalue"; then
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
  if "${OTC_ACME_HOOK_BIN:-otc-acme-hook}" cleanup "$fulldomain." "$txtvalue"; then
    return 0
  fi
  _err "otc-acme-hook could not remove the TXT value at $fulldomain (its error is above)"
  return 1
}
