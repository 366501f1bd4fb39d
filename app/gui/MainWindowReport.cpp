// The main window's exports (issue 7): the incident report as a PDF and the case's tables as
// CSV or JSON. Data is read on a worker thread; the PDF is painted on the GUI thread (the
// views paint its figures) behind a busy indicator.
#include "MainWindow.h"
#include "views/report/ReportFigures.h"
#include "Settings.h"

#include "model/report/Export.h"
#include "views/report/IncidentReport.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFutureWatcher>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QStatusBar>
#include <QToolButton>
#include <QUrl>
#include <QtConcurrent/QtConcurrentRun>

namespace mt::gui {

void MainWindow::buildExportMenu(QMenu* file) {
    m_exportReportAct = file->addAction(tr("Export &report (PDF)…"), this, &MainWindow::exportReportDialog);
    m_exportReportAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    m_exportReportAct->setStatusTip(tr("The incident report for management and auditors, as a PDF"));
    m_exportDataMenu = file->addMenu(tr("Export &data"));
    const std::pair<report::ExportTable, QString> tables[] = {
        {report::ExportTable::Messages, tr("&Messages…")},
        {report::ExportTable::Campaigns, tr("&Campaigns…")},
        {report::ExportTable::Recall, tr("&Recall requests…")},
        {report::ExportTable::Audit, tr("&Audit trail…")}};
    for (const auto& [table, text] : tables) {
        const int t = int(table);
        m_exportDataMenu->addAction(text, this, [this, t] { exportDataDialog(t); });
    }
}

bool MainWindow::exportReport(const QString& pdfPath, qint64 campaignId, const QString& pageSize, const QString& analyst) {
    m_lastError.clear();
    if (!m_reader) {
        m_lastError = tr("No case is open.");
        return false;
    }
    if (m_importing) {
        m_lastError = tr("The case is busy (import or detection); export when it is done.");
        return false;
    }
    report::ReportRequest req;
    req.casePath = m_reader->path();
    req.outputPath = pdfPath;
    req.options.campaignId = campaignId;
    req.options.analyst = analyst;
    req.pageSize = pageSize.compare(QLatin1String("Letter"), Qt::CaseInsensitive) == 0 ? QPageSize(QPageSize::Letter)
                                                                                       : QPageSize(QPageSize::A4);
    showWorkerProgress(tr("Writing the report…"));
    m_progressBar->setRange(0, 0);
    m_cancelButton->hide();
    QElapsedTimer timer;
    timer.start();
    // The queries on a worker (a million messages take a few seconds); the window stays live.
    QFuture<std::pair<bool, report::ReportData>> load = QtConcurrent::run([req] {
        report::ReportData data;
        QString error;
        const bool ok = report::loadReportData(req.casePath, req.options, data, &error);
        if (!ok) data.caseName = error; // carried back with the failure
        return std::make_pair(ok, data);
    });
    {
        // The window keeps painting meanwhile, but takes no input (nothing can start or close).
        QFutureWatcher<std::pair<bool, report::ReportData>> watcher;
        QEventLoop loop;
        connect(&watcher, &QFutureWatcherBase::finished, &loop, &QEventLoop::quit);
        watcher.setFuture(load);
        if (!load.isFinished()) loop.exec(QEventLoop::ExcludeUserInputEvents);
    }
    auto [ok, data] = load.result();
    report::ReportResult r;
    if (!ok) {
        r.error = data.caseName;
    } else if (campaignId > 0 && data.campaigns.isEmpty()) {
        r.error = tr("The case has no campaign #%1.").arg(campaignId);
    } else {
        ReportFigureSource figures(req.casePath, campaignId);
        r = report::writeIncidentReport(data, req, figures.figures());
    }
    m_progressBar->setRange(0, 1000);
    hideWorkerProgress();
    if (!r.ok) {
        m_lastError = tr("Could not write the report: %1").arg(r.error);
        return false;
    }
    statusBar()->showMessage(tr("Report written: %1 (%n page(s), %2 ms)", nullptr, r.pages)
                                 .arg(QDir::toNativeSeparators(pdfPath))
                                 .arg(timer.elapsed()),
                             10000);
    return true;
}

void MainWindow::exportReportDialog() {
    if (!m_reader) return;
    QDialog dlg(this);
    dlg.setWindowTitle(tr("Export report"));
    auto* form = new QFormLayout(&dlg);
    auto* pathEdit = new QLineEdit(&dlg);
    const QString base = QFileInfo(m_reader->path()).absolutePath() + QLatin1Char('/')
                         + QFileInfo(m_reader->path()).completeBaseName() + QStringLiteral("-report.pdf");
    pathEdit->setText(QDir::toNativeSeparators(base));
    auto* browse = new QToolButton(&dlg);
    browse->setText(tr("…"));
    connect(browse, &QToolButton::clicked, &dlg, [&] {
        const QString p = QFileDialog::getSaveFileName(&dlg, tr("Report file"), pathEdit->text(), tr("PDF (*.pdf)"));
        if (!p.isEmpty()) pathEdit->setText(QDir::toNativeSeparators(p));
    });
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(pathEdit, 1);
    pathRow->addWidget(browse);
    form->addRow(tr("&File:"), pathRow);
    auto* scope = new QComboBox(&dlg);
    scope->addItem(tr("Every campaign"), qint64(0));
    for (const CampaignView& c : m_reader->campaigns()) scope->addItem(tr("Campaign #%1 %2").arg(c.id).arg(c.label.left(50)), c.id);
    if (m_campaignCombo->currentData().toLongLong() > 0) scope->setCurrentIndex(std::max(0, scope->findData(m_campaignCombo->currentData())));
    form->addRow(tr("&Scope:"), scope);
    auto* page = new QComboBox(&dlg);
    page->addItems({QStringLiteral("A4"), QStringLiteral("Letter")});
    page->setCurrentText(settings().value(QStringLiteral("report/pageSize"), QStringLiteral("A4")).toString());
    form->addRow(tr("&Page size:"), page);
    auto* analyst = new QLineEdit(settings().value(QStringLiteral("report/analyst"), qEnvironmentVariable("USER")).toString(), &dlg);
    form->addRow(tr("&Analyst:"), analyst);
    auto* open = new QCheckBox(tr("&Open the report when it is written"), &dlg);
    open->setChecked(settings().value(QStringLiteral("report/open"), true).toBool());
    form->addRow(open);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, &dlg);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
    dlg.resize(560, dlg.sizeHint().height());
    if (dlg.exec() != QDialog::Accepted) return;
    QSettings s = settings();
    s.setValue(QStringLiteral("report/pageSize"), page->currentText());
    s.setValue(QStringLiteral("report/analyst"), analyst->text());
    s.setValue(QStringLiteral("report/open"), open->isChecked());
    const QString path = QDir::fromNativeSeparators(pathEdit->text().trimmed());
    if (!exportReport(path, scope->currentData().toLongLong(), page->currentText(), analyst->text())) {
        showError(tr("Export report"), m_lastError);
        return;
    }
    if (open->isChecked()) QDesktopServices::openUrl(QUrl::fromLocalFile(path));
}

void MainWindow::exportDataDialog(int tableInt) {
    if (!m_reader) return;
    const auto table = report::ExportTable(tableInt);
    const QString what = table == report::ExportTable::Messages ? QStringLiteral("messages")
                         : table == report::ExportTable::Campaigns ? QStringLiteral("campaigns")
                         : table == report::ExportTable::Recall ? QStringLiteral("recall")
                                                                 : QStringLiteral("audit");
    QString selected;
    const QString base = QFileInfo(m_reader->path()).absolutePath() + QLatin1Char('/') + QFileInfo(m_reader->path()).completeBaseName()
                         + QLatin1Char('-') + what + QStringLiteral(".csv");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(what), base, tr("CSV (*.csv);;JSON (*.json)"), &selected);
    if (path.isEmpty()) return;
    const auto format = path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive) || selected.startsWith(QLatin1String("JSON"))
                            ? report::ExportFormat::Json
                            : report::ExportFormat::Csv;
    const QString casePath = m_reader->path();
    showWorkerProgress(tr("Exporting %1…").arg(what));
    m_progressBar->setRange(0, 0);
    m_cancel = false;
    m_cancelButton->setToolTip(tr("Stop the export; no file is left behind"));
    auto future = QtConcurrent::run([casePath, table, format, path, cancel = &m_cancel] {
        QSaveFile f(path);
        report::ExportResult r;
        if (!f.open(QIODevice::WriteOnly)) {
            r.error = f.errorString();
            return r;
        }
        r = report::exportTable(casePath, table, format, f, {}, cancel);
        if (r.ok && !f.commit()) {
            r.ok = false;
            r.error = f.errorString();
        }
        return r;
    });
    auto* watcher = new QFutureWatcher<report::ExportResult>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, path] {
        const report::ExportResult r = watcher->result();
        watcher->deleteLater();
        m_progressBar->setRange(0, 1000);
        hideWorkerProgress();
        if (!r.ok) {
            if (r.error != QLatin1String("cancelled")) showError(tr("Export"), tr("Could not export: %1").arg(r.error));
            return;
        }
        statusBar()->showMessage(tr("Exported %1 rows to %2").arg(r.rows).arg(QDir::toNativeSeparators(path)), 8000);
    });
    watcher->setFuture(future);
}

} // namespace mt::gui
