//! Where an operation goes, resolved to revisions of the chain when the
//! command line is parsed: a target that names no revision is an error, never
//! a default.

use crate::revision::{Rev, UnknownRevision, known, resolve};

/// How far an upgrade goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Head,
    /// The next N pending revisions.
    Steps(u32),
    /// Up to and including this revision.
    Revision(Rev),
}

/// The name the CLI has always used for an upgrade target.
pub type UpTarget = Target;

/// How far a downgrade goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownTarget {
    /// The last N applied revisions.
    Steps(u32),
    /// Down to this revision, which stays applied.
    Revision(Rev),
    Base,
}

/// What `stamp` records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StampTarget {
    Base,
    /// This revision and every one before it.
    Revision(Rev),
}

fn unknown(given: &str) -> UnknownRevision {
    UnknownRevision {
        given: given.to_owned(),
        known: known(),
    }
}

fn steps(given: &str, n: &str) -> Result<u32, UnknownRevision> {
    n.parse().map_err(|_| unknown(given))
}

impl std::str::FromStr for Target {
    type Err = UnknownRevision;
    fn from_str(s: &str) -> Result<Self, UnknownRevision> {
        match s {
            "head" | "heads" => Ok(Target::Head),
            _ => match s.strip_prefix('+') {
                Some(n) => steps(s, n).map(Target::Steps),
                None => resolve(s).map(Target::Revision),
            },
        }
    }
}

impl std::str::FromStr for DownTarget {
    type Err = UnknownRevision;
    fn from_str(s: &str) -> Result<Self, UnknownRevision> {
        match s {
            "base" => Ok(DownTarget::Base),
            _ => match s.strip_prefix('-') {
                Some(n) => steps(s, n).map(DownTarget::Steps),
                None => resolve(s).map(DownTarget::Revision),
            },
        }
    }
}

impl std::str::FromStr for StampTarget {
    type Err = UnknownRevision;
    fn from_str(s: &str) -> Result<Self, UnknownRevision> {
        match s {
            "base" => Ok(StampTarget::Base),
            "head" | "heads" => Ok(StampTarget::Revision(Rev::head())),
            _ => resolve(s).map(StampTarget::Revision),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_by_id_or_unique_prefix_and_nothing_else() {
        let r003 = Rev::find("003_add_procurement_extensions").unwrap();
        assert_eq!("003".parse::<Target>().unwrap(), Target::Revision(r003));
        assert_eq!(
            "004_users_rbac".parse::<DownTarget>().unwrap(),
            DownTarget::Revision(Rev::find("004_users_rbac").unwrap())
        );
        assert_eq!("+2".parse::<Target>().unwrap(), Target::Steps(2));
        assert_eq!("head".parse::<Target>().unwrap(), Target::Head);
        assert_eq!("-1".parse::<DownTarget>().unwrap(), DownTarget::Steps(1));
        assert_eq!("base".parse::<DownTarget>().unwrap(), DownTarget::Base);
        assert_eq!(
            "head".parse::<StampTarget>().unwrap(),
            StampTarget::Revision(Rev::head())
        );
        for bad in ["00", "999", "", "+x", "base", "-1"] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
        for bad in ["-x", "head", "+1", "zz"] {
            assert!(bad.parse::<DownTarget>().is_err(), "{bad}");
        }
        assert!("nope".parse::<StampTarget>().is_err());
    }
}
