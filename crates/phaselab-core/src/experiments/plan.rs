//! A figure's grid written out as independent tasks, for whatever runs them (a Slurm job array,
//! GNU parallel, a Kubernetes Indexed Job): one entry per run, each naming its spec, the shared
//! output and record directories, and what it needs. The format is engine-neutral: a list of tasks
//! and an index into it.

use super::{Figure, RunSpec, Tier};
use serde::{Deserialize, Serialize};

/// The value of `format` in every plan file.
pub const PLAN_FORMAT: &str = "phaselab-plan";
pub const PLAN_VERSION: u32 = 1;

/// One unit of work: a run, trained into the shared directories.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub index: usize,
    /// The run's id (its run directory and record file name).
    pub id: String,
    pub spec: RunSpec,
    /// The shared output directory (run directories, locks, failures), an absolute path.
    pub out: String,
    /// The shared record directory, an absolute path.
    pub records: String,
    /// CPU cores the task uses (the training step splits its batch over two threads).
    pub cpus: usize,
    /// cpu, or wgpu for a GPU.
    pub device: String,
    /// Figure 7's tasks: the MuJoCo data generator (`tools/mujoco/run.sh`), an absolute path, that
    /// makes the environment's dataset in the shared output directory when no task has yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mujoco_generator: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    pub version: u32,
    pub figure: String,
    pub tier: Tier,
    /// Shared output directory (run directories, locks, failures), an absolute path.
    pub out: String,
    /// Shared record directory, an absolute path.
    pub records: String,
    pub tasks: Vec<Task>,
}

impl Plan {
    /// The plan of `runs` (a figure's grid, finished runs included: a task whose run has a record
    /// does nothing, so one plan serves a fresh and a resumed reproduction alike).
    pub fn new(fig: Figure, tier: Tier, runs: &[RunSpec], out: String, records: String) -> Plan {
        let tasks = runs
            .iter()
            .enumerate()
            .map(|(index, spec)| Task {
                index,
                id: spec.id(),
                spec: spec.clone(),
                out: out.clone(),
                records: records.clone(),
                cpus: 2,
                device: "cpu".into(),
                mujoco_generator: None,
            })
            .collect();
        Plan {
            format: PLAN_FORMAT.into(),
            version: PLAN_VERSION,
            figure: fig.name().into(),
            tier,
            out,
            records,
            tasks,
        }
    }

    /// This plan with every task naming `generator` (an absolute path) as the MuJoCo data
    /// generator that makes its dataset (Figure 7).
    pub fn with_mujoco_generator(mut self, generator: String) -> Plan {
        for t in &mut self.tasks {
            t.mujoco_generator = Some(generator.clone());
        }
        self
    }

    /// Parse a plan file, refusing other files and plans from a newer phaselab.
    pub fn from_bytes(bytes: &[u8]) -> Result<Plan, String> {
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        if v["format"] != PLAN_FORMAT {
            return Err("not a phaselab plan (no \"format\": \"phaselab-plan\")".into());
        }
        if v["version"].as_u64() != Some(PLAN_VERSION as u64) {
            return Err(format!(
                "plan version {} (this phaselab reads version {PLAN_VERSION})",
                v["version"]
            ));
        }
        let p: Plan = serde_json::from_value(v).map_err(|e| format!("a damaged plan: {e}"))?;
        for (i, t) in p.tasks.iter().enumerate() {
            if t.index != i || t.id != t.spec.id() {
                return Err(format!(
                    "a damaged plan: task {i} is out of place or misnamed"
                ));
            }
        }
        Ok(p)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = serde_json::to_string_pretty(self).expect("plans serialise");
        s.push('\n');
        s.into_bytes()
    }
}

/// `runs` in groups that can train as one population (same system, model, penalty and tier
/// settings; data seed and loss may differ; for fig7, same environment, model and sizes: the
/// weight seed differs), each of at most `cap` runs, in the order given.
pub fn populations<'a>(runs: &[&'a RunSpec], cap: usize) -> Vec<Vec<&'a RunSpec>> {
    let key = |r: &RunSpec| {
        (
            r.system.clone(),
            r.model,
            r.alpha.map(f64::to_bits),
            serde_json::to_string(&r.settings).unwrap_or_default(),
            r.coordinates,
        )
    };
    let mut groups: Vec<Vec<&RunSpec>> = Vec::new();
    for &r in runs {
        match groups
            .iter_mut()
            .find(|g| g.len() < cap && key(g[0]) == key(r))
        {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_round_trip_and_refuse_other_files() {
        let runs = Figure::Fig4.runs(Tier::Smoke, None);
        let p = Plan::new(Figure::Fig4, Tier::Smoke, &runs, "/o".into(), "/r".into());
        assert_eq!(p.tasks.len(), 8);
        assert_eq!(Plan::from_bytes(&p.to_bytes()).unwrap(), p);
        assert!(Plan::from_bytes(b"{}")
            .unwrap_err()
            .contains("not a phaselab plan"));
        let mut newer = p.clone();
        newer.version = 9;
        assert!(Plan::from_bytes(&newer.to_bytes())
            .unwrap_err()
            .contains("version 9"));
        let mut swapped = p.clone();
        swapped.tasks.swap(0, 1);
        assert!(Plan::from_bytes(&swapped.to_bytes())
            .unwrap_err()
            .contains("damaged"));
        assert!(Plan::from_bytes(&p.to_bytes()[..50]).is_err());
        assert!(p.tasks.iter().all(|t| t.mujoco_generator.is_none()));
        assert!(!String::from_utf8(p.to_bytes())
            .unwrap()
            .contains("mujoco_generator"));
    }

    #[test]
    fn fig7_plans_list_every_run_with_the_generator() {
        let runs = Figure::Fig7.runs(Tier::Smoke, Some(2));
        let p = Plan::new(Figure::Fig7, Tier::Smoke, &runs, "/o".into(), "/r".into())
            .with_mujoco_generator("/repo/tools/mujoco/run.sh".into());
        assert_eq!((p.figure.as_str(), p.tasks.len()), ("fig7", 4 * 3 * 2));
        assert_eq!(p.tasks[1].id, "fig7__hopper-v5__node__seed1");
        assert!(p
            .tasks
            .iter()
            .all(|t| t.mujoco_generator.as_deref() == Some("/repo/tools/mujoco/run.sh")));
        let back = Plan::from_bytes(&p.to_bytes()).unwrap();
        assert_eq!(back, p);
        assert!(back.tasks[23].spec.control().is_some());
    }
}
