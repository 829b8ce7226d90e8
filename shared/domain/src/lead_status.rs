//! The lead status state machine: the one table of allowed transitions.
//!
//! Some moves belong to the calling system alone (a lead enters `calling` only
//! when the dialer wins it; call outcomes come from the call). Everything else
//! may also be done by people. The docs' transition table is generated from
//! [`TRANSITIONS`] and checked by a test.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a lead is in its qualification journey.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    /// Ready for the first (or a new) call.
    ToCall,
    /// The AI agent is dialling.
    Calling,
    /// The call connected and is in progress.
    InCall,
    /// Meets the campaign's criteria; ready for a human.
    Qualified,
    /// Declined.
    NotInterested,
    /// Needs another call (no answer, busy, voicemail, or "call me later").
    FollowUp,
    /// Asked to be called back at a given time.
    CallbackRequested,
    /// No answer after every allowed attempt.
    Unresponsive,
    /// The AI could not proceed without a person.
    HumanInputNeeded,
    /// A person takes it from here.
    HumanFollowUp,
    /// The call failed for technical reasons.
    CallFailed,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 11] = [
        LeadStatus::ToCall,
        LeadStatus::Calling,
        LeadStatus::InCall,
        LeadStatus::Qualified,
        LeadStatus::NotInterested,
        LeadStatus::FollowUp,
        LeadStatus::CallbackRequested,
        LeadStatus::Unresponsive,
        LeadStatus::HumanInputNeeded,
        LeadStatus::HumanFollowUp,
        LeadStatus::CallFailed,
    ];

    /// Statuses that say someone spoke with the agent.
    pub const SPOKEN_WITH: [LeadStatus; 6] = [
        LeadStatus::Qualified,
        LeadStatus::NotInterested,
        LeadStatus::FollowUp,
        LeadStatus::CallbackRequested,
        LeadStatus::HumanInputNeeded,
        LeadStatus::HumanFollowUp,
    ];

    /// Statuses that wait for a person.
    pub const NEEDS_A_PERSON: [LeadStatus; 2] =
        [LeadStatus::HumanInputNeeded, LeadStatus::HumanFollowUp];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::ToCall => "to_call",
            LeadStatus::Calling => "calling",
            LeadStatus::InCall => "in_call",
            LeadStatus::Qualified => "qualified",
            LeadStatus::NotInterested => "not_interested",
            LeadStatus::FollowUp => "follow_up",
            LeadStatus::CallbackRequested => "callback_requested",
            LeadStatus::Unresponsive => "unresponsive",
            LeadStatus::HumanInputNeeded => "human_input_needed",
            LeadStatus::HumanFollowUp => "human_follow_up",
            LeadStatus::CallFailed => "call_failed",
        }
    }

    /// Reads a status name, also accepting spaces, dashes and any case.
    pub fn parse(text: &str) -> Option<LeadStatus> {
        let normal = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        LeadStatus::ALL.into_iter().find(|s| s.as_str() == normal)
    }

    /// Whether a call is under way (a live-call slot is held).
    pub fn is_live(self) -> bool {
        matches!(self, LeadStatus::Calling | LeadStatus::InCall)
    }

    /// Statuses from which the dialer may start a call.
    pub fn is_diallable(self) -> bool {
        matches!(
            self,
            LeadStatus::ToCall
                | LeadStatus::FollowUp
                | LeadStatus::CallbackRequested
                | LeadStatus::CallFailed
        )
    }

    /// Statuses a call can end in.
    pub fn is_call_outcome(self) -> bool {
        !matches!(self, LeadStatus::Calling | LeadStatus::InCall)
    }

    /// Checks a move from `self` to `to` made by `by`.
    pub fn check_transition(self, to: LeadStatus, by: Mover) -> Result<(), TransitionError> {
        match transition(self, to) {
            None => Err(TransitionError::NotAllowed { from: self, to }),
            Some(MovedBy::System) if by == Mover::Person => {
                Err(TransitionError::SystemOnly { from: self, to })
            }
            Some(_) => Ok(()),
        }
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who makes a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// The dialer, webhooks, the scheduler.
    System,
    /// A signed-in user.
    Person,
}

/// Who may make a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovedBy {
    System,
    Anyone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a lead cannot go from {from} to {to}")]
    NotAllowed { from: LeadStatus, to: LeadStatus },
    #[error("only the calling system moves a lead from {from} to {to}")]
    SystemOnly { from: LeadStatus, to: LeadStatus },
}

use LeadStatus::*;
use MovedBy::{Anyone, System};

/// Every allowed transition. Anything not here is refused.
pub const TRANSITIONS: &[(LeadStatus, LeadStatus, MovedBy)] = &[
    // Ready to call.
    (ToCall, Calling, System),
    (ToCall, Qualified, Anyone),
    (ToCall, NotInterested, Anyone),
    (ToCall, FollowUp, Anyone),
    (ToCall, CallbackRequested, Anyone),
    (ToCall, HumanInputNeeded, Anyone),
    (ToCall, HumanFollowUp, Anyone),
    (ToCall, Unresponsive, Anyone),
    // A call under way ends only through the call (webhooks may skip `in_call`).
    (Calling, InCall, System),
    (Calling, ToCall, System),
    (Calling, Qualified, System),
    (Calling, NotInterested, System),
    (Calling, FollowUp, System),
    (Calling, CallbackRequested, System),
    (Calling, Unresponsive, System),
    (Calling, HumanInputNeeded, System),
    (Calling, HumanFollowUp, System),
    (Calling, CallFailed, System),
    (InCall, ToCall, System),
    (InCall, Qualified, System),
    (InCall, NotInterested, System),
    (InCall, FollowUp, System),
    (InCall, CallbackRequested, System),
    (InCall, Unresponsive, System),
    (InCall, HumanInputNeeded, System),
    (InCall, HumanFollowUp, System),
    (InCall, CallFailed, System),
    // Outcomes.
    (Qualified, HumanFollowUp, Anyone),
    (Qualified, FollowUp, Anyone),
    (Qualified, NotInterested, Anyone),
    (Qualified, ToCall, Anyone),
    (NotInterested, ToCall, Anyone),
    (NotInterested, HumanFollowUp, Anyone),
    (FollowUp, Calling, System),
    (FollowUp, ToCall, Anyone),
    (FollowUp, Qualified, Anyone),
    (FollowUp, NotInterested, Anyone),
    (FollowUp, CallbackRequested, Anyone),
    (FollowUp, HumanInputNeeded, Anyone),
    (FollowUp, HumanFollowUp, Anyone),
    (FollowUp, Unresponsive, Anyone),
    (CallbackRequested, Calling, System),
    (CallbackRequested, ToCall, Anyone),
    (CallbackRequested, FollowUp, Anyone),
    (CallbackRequested, Qualified, Anyone),
    (CallbackRequested, NotInterested, Anyone),
    (CallbackRequested, HumanInputNeeded, Anyone),
    (CallbackRequested, HumanFollowUp, Anyone),
    (CallbackRequested, Unresponsive, Anyone),
    (Unresponsive, ToCall, Anyone),
    (Unresponsive, NotInterested, Anyone),
    (Unresponsive, HumanFollowUp, Anyone),
    (HumanInputNeeded, ToCall, Anyone),
    (HumanInputNeeded, FollowUp, Anyone),
    (HumanInputNeeded, CallbackRequested, Anyone),
    (HumanInputNeeded, Qualified, Anyone),
    (HumanInputNeeded, NotInterested, Anyone),
    (HumanInputNeeded, HumanFollowUp, Anyone),
    (HumanFollowUp, ToCall, Anyone),
    (HumanFollowUp, FollowUp, Anyone),
    (HumanFollowUp, CallbackRequested, Anyone),
    (HumanFollowUp, Qualified, Anyone),
    (HumanFollowUp, NotInterested, Anyone),
    (CallFailed, Calling, System),
    (CallFailed, ToCall, Anyone),
    (CallFailed, HumanInputNeeded, Anyone),
    (CallFailed, HumanFollowUp, Anyone),
    (CallFailed, NotInterested, Anyone),
    (CallFailed, Unresponsive, Anyone),
];

pub fn transition(from: LeadStatus, to: LeadStatus) -> Option<MovedBy> {
    TRANSITIONS
        .iter()
        .find(|(f, t, _)| *f == from && *t == to)
        .map(|(_, _, by)| *by)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_no_duplicates_or_self_loops() {
        for (i, (from, to, _)) in TRANSITIONS.iter().enumerate() {
            assert_ne!(from, to);
            assert!(
                !TRANSITIONS[i + 1..]
                    .iter()
                    .any(|(f, t, _)| f == from && t == to),
                "{from} -> {to} twice"
            );
        }
    }

    #[test]
    fn calls_are_system_business() {
        for from in LeadStatus::ALL {
            for to in [Calling, InCall] {
                if let Some(by) = transition(from, to) {
                    assert_eq!(by, System, "{from} -> {to}");
                }
            }
        }
        assert_eq!(
            Calling.check_transition(Qualified, Mover::Person),
            Err(TransitionError::SystemOnly {
                from: Calling,
                to: Qualified
            })
        );
        assert_eq!(Calling.check_transition(Qualified, Mover::System), Ok(()));
        assert_eq!(
            Qualified.check_transition(Calling, Mover::System),
            Err(TransitionError::NotAllowed {
                from: Qualified,
                to: Calling
            })
        );
    }

    #[test]
    fn every_status_is_reachable_and_can_be_left() {
        for status in LeadStatus::ALL {
            assert!(
                TRANSITIONS.iter().any(|(f, _, _)| *f == status),
                "{status} is a dead end"
            );
            if status != ToCall {
                assert!(
                    TRANSITIONS.iter().any(|(_, t, _)| *t == status),
                    "{status} unreachable"
                );
            }
            assert_eq!(LeadStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(
            LeadStatus::parse("Callback Requested"),
            Some(CallbackRequested)
        );
    }
}
