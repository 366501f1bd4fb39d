#pragma once
// Drills: a simulated outbreak (model/simulator) imported into a new case that the analyst
// investigates without knowing the answer. This is the non-widget part: where a drill's files
// go, and the worker that simulates, creates the case and imports into it.
//
// A drill case is an ordinary case file with a sidecar "<case>.truth.json" beside it (a copy
// of the simulator's truth.json); the case file itself holds nothing of the truth. The
// generated logs, org chart and truth.json stay in "<case dir>/<case name>-logs/".
#include "model/ImportJob.h"
#include "model/simulator/Simulator.h"

#include <QString>
#include <atomic>
#include <cstdint>
#include <functional>

namespace mt::gui {

struct DrillRequest {
    sim::SimulationOptions options; // options.outDir: where the logs go (see drillLogsDir)
    QString casePath;               // must not exist yet
};

struct DrillOutcome {
    bool ok = false;
    bool cancelled = false;
    QString error;                  // when !ok && !cancelled
    QString casePath;               // absolute; exists only when ok
    QString truthPath;              // the sidecar, when ok
    sim::SimulationResult simulation;
    ImportReport report;            // org chart then logs
};

// "drills" under QStandardPaths::AppDataLocation.
QString drillsFolder();
// <drillsFolder>/drill-<worm>-<seed>.mtcase, or -2, -3 ... when that case already exists.
QString defaultDrillCasePath(sim::Worm worm, std::uint64_t seed);
// The logs folder of a drill case: "<dir>/<complete base name>-logs".
QString drillLogsDir(const QString& casePath);
// The truth sidecar of a case: "<case>.truth.json". A case is a drill when it exists.
QString drillTruthPath(const QString& casePath);
// A seed that is short enough to note down (1 .. 999999).
std::uint64_t randomDrillSeed();

enum class DrillPhase { Simulate = 0, Import = 1 };
using DrillProgress = std::function<void(DrillPhase phase, int permille, const QString& what)>;

// Runs on a worker thread. Simulates into request.options.outDir, imports org.csv and the
// logs with ImportJob into "<case>.part" (its own CaseStore), copies truth.json to the
// sidecar and only then renames the finished case into place: a cancel or a failure leaves
// no case file and no sidecar (and removes the logs folder when this run created it and was
// cancelled). progress is called on the calling thread.
DrillOutcome runDrill(const DrillRequest& request, const std::atomic_bool* cancel, const DrillProgress& progress);

} // namespace mt::gui
