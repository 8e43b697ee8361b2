//! Alert routing's state in the store (schema version 3): the router's snapshot, the delivery
//! log that keeps a restart from sending anything twice (acknowledgements: `triage`). The snapshot's
//! format belongs to `rampart-route`; the store keeps it as text.

use crate::db::{ConnExt, Val};
use crate::{Store, StoreError};

/// The router's snapshot (JSON, when saved) and its delivery log (route, delivered key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingState {
    pub snapshot: Option<String>,
    pub delivered: Vec<(String, String)>,
}

/// The one routing state a store holds (a name leaves room for more).
const STATE_NAME: &str = "default";

impl Store {
    /// The router's snapshot and the delivery log, route and key per row.
    pub fn routing_state(&self) -> Result<RoutingState, StoreError> {
        self.read("cannot read the routing state", |c| {
            let snapshot = c
                .query_vec(
                    "SELECT snapshot FROM route_state WHERE name = ?1",
                    &[Val::from(STATE_NAME)],
                    |r| r.string(0),
                )?
                .into_iter()
                .next();
            let log = c.query_vec(
                "SELECT route, delivery_key FROM route_deliveries ORDER BY delivered_at, route, delivery_key",
                &[],
                |r| Ok((r.string(0)?, r.string(1)?)),
            )?;
            Ok(RoutingState {
                snapshot,
                delivered: log,
            })
        })
    }

    /// Replaces the snapshot and forgets deliveries made before `forget_before` (the router
    /// forgets those alerts at the same age).
    pub fn save_routing_state(
        &mut self,
        snapshot: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        self.write("saving the routing state", |c| {
            c.exec(
                "INSERT INTO route_state (name, snapshot, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET snapshot = excluded.snapshot, \
                 updated_at = excluded.updated_at",
                &[Val::from(STATE_NAME), Val::from(snapshot), Val::int(now)],
            )?;
            c.exec(
                "DELETE FROM route_deliveries WHERE delivered_at < ?1",
                &[Val::int(forget_before)],
            )?;
            Ok(())
        })
    }

    /// Records deliveries as they succeed (a key already there is left as it was).
    pub fn record_route_delivery(
        &mut self,
        route: &str,
        keys: &[String],
        at: i64,
    ) -> Result<(), StoreError> {
        self.write("recording a delivery", |c| {
            for k in keys {
                c.exec(
                    "INSERT INTO route_deliveries (route, delivery_key, delivered_at) \
                     VALUES (?1, ?2, ?3) ON CONFLICT (route, delivery_key) DO NOTHING",
                    &[Val::from(route), Val::from(k), Val::int(at)],
                )?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlertAck;
    use crate::testing::on_both;

    #[test]
    fn snapshot_deliveries_and_acks_round_trip() {
        on_both(|db| {
            let mut s = db.open();
            assert_eq!(s.routing_state().unwrap(), RoutingState::default());
            s.record_route_delivery("chat", &["a1".into(), "a2".into()], 100)
                .unwrap();
            s.record_route_delivery("chat", &["a1".into()], 150)
                .unwrap();
            s.record_route_delivery("page", &["a1".into()], 200)
                .unwrap();
            s.save_routing_state("{\"version\":1}", 210, 0).unwrap();
            s.save_routing_state("{\"version\":1,\"x\":2}", 220, 0)
                .unwrap();
            let st = s.routing_state().unwrap();
            assert_eq!(st.snapshot.as_deref(), Some("{\"version\":1,\"x\":2}"));
            assert_eq!(
                st.delivered,
                [("chat", "a1"), ("chat", "a2"), ("page", "a1")]
                    .map(|(r, k)| (r.to_string(), k.to_string()))
            );
            // old deliveries are forgotten with the alerts they belong to
            s.save_routing_state("{}", 300, 150).unwrap();
            assert_eq!(s.routing_state().unwrap().delivered.len(), 1);
            let ack = AlertAck {
                alert_id: "a1".into(),
                by: "ana".into(),
                comment: Some("mine".into()),
                at: 5,
            };
            s.record_alert_ack(&ack).unwrap();
            s.record_alert_ack(&AlertAck {
                by: "bo".into(),
                ..ack.clone()
            })
            .unwrap();
            assert_eq!(s.alert_acks().unwrap(), vec![ack]);
            assert_eq!(s.counts().unwrap().get("route_deliveries"), 1);
            assert_eq!(s.counts().unwrap().get("alert_acks"), 1);
        });
    }
}
