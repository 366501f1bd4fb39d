#include "Drill.h"

#include "model/CaseStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QStandardPaths>

#include <algorithm>

namespace mt::gui {

namespace {

// Share of the progress bar (per mille) the simulation takes; the imports take the rest.
constexpr int kSimulateShare = 400;

QString tr(const char* s) { return QCoreApplication::translate("Drill", s); }

void removeCaseFiles(const QString& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) QFile::remove(path + QLatin1String(suffix));
}

QString firstFailure(const ImportReport& report) {
    for (const FileReport& f : report.files) {
        if (f.ok || f.cancelled) continue;
        const QString name = QFileInfo(QString::fromStdString(f.figures.path)).fileName();
        return tr("%1: %2").arg(name, f.error.empty() ? tr("import failed") : QString::fromStdString(f.error));
    }
    return {};
}

} // namespace

QString drillsFolder() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/drills");
}

QString defaultDrillCasePath(sim::Worm worm, std::uint64_t seed) {
    const QString base = QStringLiteral("%1/drill-%2-%3").arg(drillsFolder(), sim::wormName(worm)).arg(seed);
    QString path = base + QStringLiteral(".mtcase");
    for (int n = 2; QFileInfo::exists(path); ++n) path = QStringLiteral("%1-%2.mtcase").arg(base).arg(n);
    return path;
}

QString drillLogsDir(const QString& casePath) {
    const QFileInfo fi(casePath);
    return fi.absolutePath() + QLatin1Char('/') + fi.completeBaseName() + QStringLiteral("-logs");
}

QString drillTruthPath(const QString& casePath) { return casePath + QStringLiteral(".truth.json"); }

std::uint64_t randomDrillSeed() { return QRandomGenerator::global()->bounded(1, 1000000); }

DrillOutcome runDrill(const DrillRequest& request, const std::atomic_bool* cancel, const DrillProgress& progress) {
    DrillOutcome out;
    auto isCancelled = [cancel] { return cancel && cancel->load(std::memory_order_relaxed); };
    auto report = [&progress](DrillPhase phase, int permille, const QString& what) {
        if (progress) progress(phase, std::clamp(permille, 0, 1000), what);
    };
    if (request.casePath.isEmpty()) {
        out.error = tr("No case file given.");
        return out;
    }
    out.casePath = QFileInfo(request.casePath).absoluteFilePath();
    const QString casePath = out.casePath;
    const QString partPath = casePath + QStringLiteral(".part");
    const QString sidecar = drillTruthPath(casePath);
    if (QFileInfo::exists(casePath)) {
        out.error = tr("%1 already exists; a drill never overwrites a case.").arg(QDir::toNativeSeparators(casePath));
        return out;
    }
    if (!QDir().mkpath(QFileInfo(casePath).absolutePath())) {
        out.error = tr("Could not create the folder %1.").arg(QDir::toNativeSeparators(QFileInfo(casePath).absolutePath()));
        return out;
    }

    sim::SimulationOptions options = request.options;
    if (options.outDir.isEmpty()) options.outDir = drillLogsDir(casePath);
    options.outDir = QFileInfo(options.outDir).absoluteFilePath();
    const bool createdLogsDir = !QFileInfo::exists(options.outDir);
    // A cancelled drill leaves nothing behind that it made; a failed one keeps its logs to look at.
    auto giveUp = [&](bool cancelled, const QString& error) {
        removeCaseFiles(partPath);
        QFile::remove(sidecar);
        out.ok = false;
        out.cancelled = cancelled;
        out.error = cancelled ? QString() : error;
        if (cancelled && createdLogsDir) QDir(options.outDir).removeRecursively();
        return out;
    };

    // 1. The outbreak, as the servers logged it.
    report(DrillPhase::Simulate, 0, tr("Generating the drill’s mail…"));
    out.simulation = sim::simulate(
        options,
        [&](int percent) { report(DrillPhase::Simulate, percent * kSimulateShare / 100, tr("Generating the drill’s mail…")); },
        cancel);
    if (isCancelled() || out.simulation.error == QLatin1String("cancelled")) return giveUp(true, {});
    if (!out.simulation.ok)
        return giveUp(false, tr("The simulation failed: %1").arg(out.simulation.error.isEmpty() ? tr("unknown error")
                                                                                             : out.simulation.error));

    // 2. A new case, under a name nobody opens, then the org chart and the logs.
    removeCaseFiles(partPath);
    try {
        CaseStore store;
        store.open(partPath, true);
        QStringList orgs;
        if (!out.simulation.orgChart.isEmpty()) orgs << out.simulation.orgChart;
        qint64 orgBytes = 0, logBytes = 0;
        for (const QString& p : orgs) orgBytes += QFileInfo(p).size();
        for (const QString& p : out.simulation.logFiles) logBytes += QFileInfo(p).size();
        const qint64 total = std::max<qint64>(1, orgBytes + logBytes);
        auto importProgress = [&](qint64 offset) {
            return [&report, offset, total](std::int64_t done, std::int64_t, const QString& file) {
                report(DrillPhase::Import, kSimulateShare + int((offset + done) * (1000 - kSimulateShare) / total),
                       tr("Importing %1…").arg(QFileInfo(file).fileName()));
            };
        };
        auto append = [&out](ImportReport&& r) {
            for (FileReport& f : r.files) out.report.files.push_back(std::move(f));
            out.report.cancelled = out.report.cancelled || r.cancelled;
        };
        report(DrillPhase::Import, kSimulateShare, tr("Creating the case…"));
        if (!orgs.isEmpty()) {
            ImportJob job(store);
            job.setCancelFlag(cancel);
            job.setProgress(importProgress(0));
            append(job.importOrgCharts(orgs));
        }
        if (!out.report.cancelled && !isCancelled() && out.report.anyFailed()) {
            store.close();
            return giveUp(false, tr("The drill’s org chart did not import: %1").arg(firstFailure(out.report)));
        }
        if (!out.report.cancelled && !isCancelled()) {
            ImportJob job(store);
            job.setCancelFlag(cancel);
            job.setProgress(importProgress(orgBytes));
            append(job.importLogs(out.simulation.logFiles));
        }
        store.close();
    } catch (const std::exception& e) {
        return giveUp(false, tr("Could not create the drill’s case: %1").arg(QString::fromUtf8(e.what())));
    }
    if (out.report.cancelled || isCancelled()) return giveUp(true, {});
    if (out.report.anyFailed())
        return giveUp(false, tr("The drill’s logs did not import: %1").arg(firstFailure(out.report)));

    // 3. The truth beside the case, then the case into place: from here on it is complete.
    QFile::remove(sidecar);
    if (!QFile::copy(out.simulation.truthFile, sidecar))
        return giveUp(false, tr("Could not write %1.").arg(QDir::toNativeSeparators(sidecar)));
    if (!QFile::rename(partPath, casePath))
        return giveUp(false, tr("Could not move the finished case to %1.").arg(QDir::toNativeSeparators(casePath)));
    // A clean close checkpoints and deletes the write-ahead log; should one be left, it goes along.
    if (QFileInfo::exists(partPath + QStringLiteral("-wal")))
        QFile::rename(partPath + QStringLiteral("-wal"), casePath + QStringLiteral("-wal"));
    QFile::remove(partPath + QStringLiteral("-shm"));
    out.truthPath = sidecar;
    out.ok = true;
    report(DrillPhase::Import, 1000, tr("Opening the case…"));
    return out;
}

} // namespace mt::gui
