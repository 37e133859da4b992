//! (being written)

use super::registry::MetricEntry;

/// The family's registry entries.
pub fn entries() -> Vec<MetricEntry> {
    vec![]
}
