//! The journal's shortcuts for a certbot run: an early auth hook defers its
//! value to the run's last hook, a later cleanup hook finds its value already
//! removed; both before any credential is fetched. And the grouping of a
//! run's journal entries into the names the engine writes.

use super::contracts::Challenge;
use super::types::Group;
use crate::cloud_api::Zone;
use crate::error::Result;

/// An early hook of a certbot run (more challenges follow, wait-once on):
/// records its value in the journal for the run's last hook, before any
/// credential is fetched or request made. `Ok(false)`: not such a hook, or no
/// run to join (the caller then writes at once).
pub fn defer_early(
    env: &Challenge,
    local: &crate::host_state::HostState,
    clock: &dyn crate::clock::Clock,
    report: &crate::report::Report,
    wait_once: bool,
) -> Result<bool> {
    let Some((all, count, remaining)) = env.run_key().filter(|_| wait_once) else {
        return Ok(false);
    };
    if remaining == 0 {
        return Ok(false);
    }
    let ancestors = crate::host_state::ancestry();
    match local.defer(
        clock.unix_secs(),
        &all,
        count,
        remaining,
        &env.fqdn,
        &env.value,
        &ancestors,
    )? {
        Some(_) => {
            report.info(format!(
                "recorded TXT value {} for {}: the last hook of this certbot run writes it ({remaining} more challenge(s) follow)",
                env.value, env.fqdn
            ));
            Ok(true)
        }
        None => {
            report.verbose("no open certbot run to join in the journal; writing at once");
            Ok(false)
        }
    }
}

/// A cleanup hook of a batched certbot run with nothing to send, decided
/// before any credential is fetched: its value was never written (the run's
/// last auth hook never came), or the run's first cleanup already removed and
/// published it; the run's last hook forgets the run. `Ok(true)` when that is
/// so. A removal whose publishing failed is not such a case: the hook goes on,
/// finds the value gone and publishes the zone again.
pub fn removed_early(
    env: &Challenge,
    local: &crate::host_state::HostState,
    report: &crate::report::Report,
    wait_once: bool,
) -> Result<bool> {
    let Some((_, _, remaining)) = env.run_key().filter(|_| wait_once) else {
        return Ok(false);
    };
    let Some((entry, id)) = local.run_of_value(&env.value) else {
        return Ok(false);
    };
    if entry.state == crate::host_state::State::Deferred {
        // Only this value: the run's other cleanup hooks find theirs the same way.
        local.forget(&entry.name, &entry.value)?;
        report.info(format!(
            "TXT value {} was never written (its certbot run stopped early); nothing to remove",
            env.value
        ));
        return Ok(true);
    }
    // Every removal of the run must be published, not only this hook's: a
    // zone whose commit failed is committed again by a later hook.
    let all_published = || {
        local
            .run_entries(&id)
            .iter()
            .all(|e| e.state == crate::host_state::State::Deferred || e.removal_published())
    };
    if !entry.removal_published() || !all_published() {
        return Ok(false);
    }
    report.info(format!(
        "TXT value {} was removed with the other values of its certbot run",
        env.value
    ));
    if remaining == 0 {
        // Every value of the run is removed and published: the run is over.
        local.forget_run(&id)?;
    }
    Ok(true)
}

/// Journal entries in `states`, grouped by zone and name: one write per
/// name, with the ids the journal knows.
pub fn group_by_name(
    entries: &[crate::host_state::Entry],
    states: &[crate::host_state::State],
) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for e in entries.iter().filter(|e| states.contains(&e.state)) {
        let g = match groups
            .iter_mut()
            .find(|g| g.zone.id == e.zone_id && g.name == e.name)
        {
            Some(g) => g,
            None => {
                groups.push(Group::new(
                    Zone {
                        id: e.zone_id.clone(),
                        name: e.zone_name.clone(),
                    },
                    e.name.clone(),
                    Vec::new(),
                ));
                groups.last_mut().expect("just pushed")
            }
        };
        g.values.push(e.value.clone());
        if let Some(id) = &e.id {
            g.known.push((id.clone(), e.value.clone()));
        }
    }
    groups
}
