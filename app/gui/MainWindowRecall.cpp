// The main window's recall part (issue 6): the Recall panel (requests and their states), the
// Recall menu, the plan-and-approve dialog, verdicts with the cascade, the server directory
// and the audit trail. Every write to the case and every server request runs on a worker
// thread with a connection of its own; the window shows progress and can cancel between
// requests (a request already sent finishes; the connectors are idempotent, so a cancelled or
// crashed run is simply resumed).
#include "MainWindow.h"
#include "Settings.h"

#include "model/AnalysisSelection.h"
#include "model/CaseStore.h"
#include "model/recall/Keyring.h"
#include "model/recall/RecallPlan.h"
#include "model/recall/RecallRequestModel.h"
#include "model/recall/RecallRun.h"
#include "model/recall/RecallStore.h"
#include "model/recall/Verdict.h"
#include "model/report/Export.h"
#include "views/orgmap/OrgMapPanel.h"
#include "views/orgmap/OrgMapView.h"

#include <QAction>
#include <QComboBox>
#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSaveFile>
#include <QStatusBar>
#include <QTableView>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <QTimeZone>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

namespace mt::gui {

namespace {

QString num(qint64 n) { return QLocale().toString(n); }

QString outcomesText(const std::map<std::string, std::int64_t>& outcomes) {
    QStringList parts;
    for (const auto& [state, n] : outcomes)
        parts << QStringLiteral("%1 %2").arg(num(n), recall::RecallRequestModel::stateTitle(QString::fromStdString(state)));
    return parts.isEmpty() ? MainWindow::tr("nothing to do") : parts.join(QStringLiteral(", "));
}

// Approves the requests in the analyst's name and asks the servers (on the worker thread,
// with a connection of its own); each finished request is reported as "server: recipient →
// state".
recall::RunReport approveAndRun(const QString& casePath, const recall::ServerDirectory& dir, const std::vector<std::int64_t>& ids,
                                const std::string& analyst, const std::atomic_bool* cancel,
                                const std::function<void(qint64, qint64, const QString&)>& progress) {
    CaseStore store;
    store.open(casePath, false);
    recall::RecallStore rs(store.db());
    recall::approveRequests(rs, ids, analyst);
    recall::RecallRunner runner(store.db(), dir);
    recall::RunOptions o;
    o.analyst = analyst;
    o.requestIds = ids;
    o.cancel = cancel;
    o.progress = [&progress](const recall::RunProgress& p) {
        QString last;
        if (p.last)
            last = QStringLiteral("%1: %2 → %3")
                       .arg(QString::fromStdString(p.last->server), QString::fromStdString(p.last->recipient),
                            recall::RecallRequestModel::stateTitle(QString::fromLatin1(recall::stateName(p.last->to))));
        progress(p.done, p.total, last);
    };
    return runner.run(o);
}

} // namespace

// ---------------------------------------------------------------- panel and menu

void MainWindow::buildRecallPanel() {
    auto* panel = new QWidget(this);
    auto* layout = new QVBoxLayout(panel);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* bar = new QHBoxLayout;
    m_recallServers = new QLabel(panel);
    m_recallServers->setObjectName(QStringLiteral("recallServers"));
    auto* servers = new QToolButton(panel);
    servers->setText(tr("Servers…"));
    servers->setToolTip(tr("Which connector reaches each mail server (IMAP, Postfix queue, or the simulation)"));
    connect(servers, &QToolButton::clicked, this, &MainWindow::serverDirectoryDialog);
    auto* recallButton = new QPushButton(tr("Recall campaign…"), panel);
    recallButton->setToolTip(tr("Plan the recall of the selected campaign's copies, approve it and ask the servers"));
    connect(recallButton, &QPushButton::clicked, this, &MainWindow::recallCampaignDialog);
    auto* virus = new QPushButton(tr("Verdict: virus…"), panel);
    connect(virus, &QPushButton::clicked, this, [this] { verdictDialog(true); });
    auto* clean = new QPushButton(tr("Verdict: not a virus…"), panel);
    connect(clean, &QPushButton::clicked, this, [this] { verdictDialog(false); });
    auto* round = new QPushButton(tr("Next round…"), panel);
    round->setToolTip(tr("Recall what the readers of the worm sent on (proposed by a virus verdict)"));
    connect(round, &QPushButton::clicked, this, &MainWindow::proposedRoundDialog);
    auto* audit = new QToolButton(panel);
    audit->setText(tr("Audit trail…"));
    connect(audit, &QToolButton::clicked, this, &MainWindow::auditTrailDialog);
    bar->addWidget(m_recallServers);
    bar->addWidget(servers);
    bar->addStretch(1);
    bar->addWidget(recallButton);
    bar->addWidget(virus);
    bar->addWidget(clean);
    bar->addWidget(round);
    bar->addWidget(audit);
    layout->addLayout(bar);
    m_recallCounts = new QLabel(panel);
    m_recallCounts->setObjectName(QStringLiteral("recallCounts"));
    m_recallCounts->setWordWrap(true);
    layout->addWidget(m_recallCounts);
    m_recallModel = new recall::RecallRequestModel(this);
    auto* table = new QTableView(panel);
    table->setModel(m_recallModel);
    table->verticalHeader()->hide();
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setAlternatingRowColors(true);
    table->setWordWrap(false);
    table->horizontalHeader()->setStretchLastSection(false);
    table->horizontalHeader()->setResizeContentsPrecision(200); // measure a sample, not 5,000 rows
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
    connect(m_recallModel, &QAbstractItemModel::modelReset, table, [table] {
        table->resizeColumnsToContents();
        // Long Message-IDs and addresses elide (full text in the cell's tooltip-free copy):
        // the state and the server's answer must stay in view.
        for (int c = 0; c < recall::RecallRequestModel::ColumnCount; ++c)
            table->setColumnWidth(c, std::min(table->columnWidth(c), c == recall::RecallRequestModel::Answer ? 420 : 230));
    });
    connect(table, &QTableView::activated, this, [this](const QModelIndex& index) {
        // Opening a request shows its message in the list.
        if (const RecallRequestView* r = m_recallModel->requestAt(index.row())) m_selection->setMessage(r->messageId);
    });
    layout->addWidget(table, 1);
    m_recallDock = new QDockWidget(tr("Recall"), this);
    m_recallDock->setObjectName(QStringLiteral("recallDock"));
    m_recallDock->setWidget(panel);
    addDockWidget(Qt::BottomDockWidgetArea, m_recallDock);
    tabifyDockWidget(m_timelineDock, m_recallDock);
    m_timelineDock->raise();
    connect(&m_recallWatcher, &QFutureWatcherBase::finished, this, &MainWindow::onRecallFinished);
    // The map loads on a worker; its recall badges go on once it is there.
    connect(m_orgMap, &OrgMapPanel::loaded, this, [this] { refreshRecall(); });
}

void MainWindow::buildRecallMenu() {
    m_recallMenu = menuBar()->addMenu(tr("&Recall"));
    QAction* campaign = m_recallMenu->addAction(tr("Recall &campaign…"), this, &MainWindow::recallCampaignDialog);
    campaign->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    m_recallMenu->addAction(tr("Recall selected &message…"), this, &MainWindow::recallSelectedMessageDialog);
    m_recallMenu->addAction(tr("&Next round (cascade)…"), this, &MainWindow::proposedRoundDialog);
    m_recallMenu->addSeparator();
    m_recallMenu->addAction(tr("Verdict: &virus…"), this, [this] { verdictDialog(true); });
    m_recallMenu->addAction(tr("Verdict: &not a virus…"), this, [this] { verdictDialog(false); });
    m_recallMenu->addSeparator();
    m_recallMenu->addAction(tr("&Servers…"), this, &MainWindow::serverDirectoryDialog);
    m_recallMenu->addAction(tr("&Audit trail…"), this, &MainWindow::auditTrailDialog);
    QAction* panel = m_recallDock->toggleViewAction();
    panel->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    m_recallMenu->addAction(panel);
}

void MainWindow::showRecallPanel() {
    m_recallDock->show();
    m_recallDock->raise();
}

void MainWindow::refreshRecall() {
    if (!m_recallModel) return;
    const QString servers = serverDirectorySetting();
    m_recallServers->setText(servers.isEmpty() ? tr("Servers: <b>none chosen</b>")
                             : servers == QLatin1String("demo")
                                 ? tr("Servers: <b>simulated</b> from the case (demo)")
                                 : tr("Servers: %1").arg(QFileInfo(servers).fileName().toHtmlEscaped()));
    if (!m_reader) {
        m_recallModel->setRequests({});
        m_recallCounts->setText(tr("No case open."));
        return;
    }
    m_recallModel->setRequests(m_reader->recallRequests(5000));
    const auto counts = m_reader->recallStateCounts();
    if (counts.isEmpty()) {
        m_recallCounts->setText(tr("No recall yet. Select a campaign, then Recall campaign (Ctrl+Shift+K)."));
    } else {
        QStringList parts;
        qint64 total = 0;
        for (const auto& [state, n] : counts) {
            parts << QStringLiteral("%1 %2").arg(num(n), recall::RecallRequestModel::stateTitle(state));
            total += n;
        }
        m_recallCounts->setText(tr("%1 copies: %2").arg(num(total), parts.join(QStringLiteral(" · "))));
    }
    // The map's recall badges, per recipient unit.
    QHash<qint64, RecallCounts> perUnit;
    for (const CaseReader::UnitRecall& u : m_reader->recallByUnit()) perUnit.insert(u.unitId, RecallCounts{u.suspended, u.failed, u.deleted});
    m_orgMap->map()->setRecallCounts(perUnit);
}

// ---------------------------------------------------------------- server directory

QString MainWindow::serverDirectorySetting() const {
    const QString v = settings().value(QStringLiteral("recall/servers")).toString();
    // A drill (the bundled demo too) has no real servers: its recall is simulated.
    if (v.isEmpty() && m_drillCase) return QStringLiteral("demo");
    return v;
}

void MainWindow::setServerDirectorySetting(const QString& value) {
    settings().setValue(QStringLiteral("recall/servers"), value);
    refreshRecall();
}

bool MainWindow::loadServerDirectory(recall::ServerDirectory& out) {
    const QString v = serverDirectorySetting();
    if (v.isEmpty()) {
        m_lastError = tr("No mail servers are set up for recall: choose a server directory (Recall > Servers…).");
        return false;
    }
    if (v == QLatin1String("demo")) {
        out = recall::ServerDirectory::demoEverywhere();
        return true;
    }
    QString error;
    // Passwords kept in the desktop keyring are read into memory; settings that would fail every
    // request (a password file others can read, a missing secret) are refused here, with the reason.
    if (!out.loadFile(v, &error) || !recall::loadKeyringSecrets(out, &error) || !out.checkSecrets(&error)) {
        m_lastError = tr("The server directory %1 cannot be used: %2").arg(QDir::toNativeSeparators(v), error);
        return false;
    }
    return true;
}

bool MainWindow::storeKeyringPassword(const QString& host, const QString& password) {
    QString error;
    if (host.trimmed().isEmpty() || password.isEmpty()) {
        m_lastError = tr("A keyring password needs the server and the password.");
        return false;
    }
    if (!recall::keyringWrite(host.trimmed().toStdString(), password.toStdString(), &error)) {
        m_lastError = error;
        return false;
    }
    return true;
}

void MainWindow::serverDirectoryDialog() {
    QDialog dlg(this);
    dlg.setWindowTitle(tr("Mail servers for recall"));
    auto* layout = new QVBoxLayout(&dlg);
    auto* demo = new QRadioButton(tr("&Simulated servers, built from the case (demo and drills: nothing leaves this machine)"), &dlg);
    auto* file = new QRadioButton(tr("Server &directory (servers.json):"), &dlg);
    auto* path = new QLineEdit(&dlg);
    auto* browse = new QToolButton(&dlg);
    browse->setText(tr("…"));
    auto* row = new QHBoxLayout;
    row->addWidget(path, 1);
    row->addWidget(browse);
    auto* preview = new QPlainTextEdit(&dlg);
    preview->setReadOnly(true);
    preview->setPlaceholderText(tr("{\"servers\": [{\"host\": \"mx1\", \"imap\": {\"url\": \"imaps://mx1.example.org\", \"admin_user\": \"admin\", "
                                   "\"login\": \"master\", \"password_file\": \"/root/.mt-imap\"}, \"postfix\": {\"command_prefix\": "
                                   "[\"ssh\", \"root@mx1\"]}}]}"));
    auto* status = new QLabel(&dlg);
    status->setWordWrap(true);
    auto* note = new QLabel(tr("Passwords are never stored in the case, the settings or the directory: an entry names an "
                               "environment variable, a file readable only by you (mode 0600), or says \"password_keyring\": true "
                               "to keep it in the desktop keyring."), &dlg);
    note->setWordWrap(true);
    auto* keyring = new QPushButton(tr("Store a server's password in the &keyring…"), &dlg);
    keyring->setObjectName(QStringLiteral("storeKeyringPassword"));
    auto* keyringRow = new QHBoxLayout;
    keyringRow->addWidget(keyring);
    keyringRow->addStretch(1);
    QStringList keyringHosts;
    layout->addWidget(demo);
    layout->addWidget(file);
    layout->addLayout(row);
    layout->addWidget(preview, 1);
    layout->addWidget(status);
    layout->addWidget(note);
    layout->addLayout(keyringRow);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dlg);
    layout->addWidget(buttons);
    const QString current = serverDirectorySetting();
    demo->setChecked(current == QLatin1String("demo"));
    file->setChecked(current != QLatin1String("demo"));
    if (current != QLatin1String("demo")) path->setText(QDir::toNativeSeparators(current));
    auto validate = [&] {
        bool ok = demo->isChecked();
        if (file->isChecked()) {
            QFile f(QDir::fromNativeSeparators(path->text()));
            recall::ServerDirectory dir;
            QString error;
            if (path->text().isEmpty()) {
                status->setText(tr("Choose a servers.json."));
                preview->clear();
            } else if (!f.open(QIODevice::ReadOnly)) {
                status->setText(tr("<span style='color:#b00020'>Cannot read it: %1</span>").arg(f.errorString().toHtmlEscaped()));
                preview->clear();
            } else {
                const QByteArray json = f.readAll();
                preview->setPlainText(QString::fromUtf8(json));
                ok = dir.loadJson(json, &error);
                keyringHosts.clear();
                if (ok)
                    for (const recall::ServerEntry& e : dir.entries())
                        if (e.imap && e.imap->passwordKeyring) keyringHosts << QString::fromStdString(e.host);
                // The secrets are checked as a run would (keyring, file mode, variables).
                QString secretProblem;
                if (ok && !(recall::loadKeyringSecrets(dir, &secretProblem) && dir.checkSecrets(&secretProblem))) ok = false;
                status->setText(ok ? tr("✓ %n server entries, every password available", nullptr, int(dir.entries().size()))
                                   : tr("<span style='color:#b00020'>✗ %1</span>")
                                         .arg((error.isEmpty() ? secretProblem : error).toHtmlEscaped()));
            }
        } else {
            status->setText(tr("Every server is simulated: recipients read their copy after a delay drawn from the case."));
            preview->clear();
        }
        buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
        keyring->setEnabled(!keyringHosts.isEmpty());
        keyring->setToolTip(keyringHosts.isEmpty() ? tr("No entry of this directory says \"password_keyring\": true")
                                                   : tr("Entries with their password in the keyring: %1").arg(keyringHosts.join(QStringLiteral(", "))));
    };
    connect(keyring, &QPushButton::clicked, &dlg, [&] {
        bool ok = false;
        const QString host = keyringHosts.size() == 1 ? keyringHosts.first()
                                                      : QInputDialog::getItem(&dlg, tr("Keyring"), tr("Server:"), keyringHosts, 0, false, &ok);
        if (host.isEmpty()) return;
        const QString pw = QInputDialog::getText(&dlg, tr("Keyring"), tr("IMAP admin password of %1:").arg(host), QLineEdit::Password,
                                                 QString(), &ok);
        if (!ok || pw.isEmpty()) return;
        if (!storeKeyringPassword(host, pw))
            QMessageBox::warning(&dlg, tr("Keyring"), m_lastError);
        validate();
    });
    connect(demo, &QRadioButton::toggled, &dlg, validate);
    connect(path, &QLineEdit::textChanged, &dlg, validate);
    connect(browse, &QToolButton::clicked, &dlg, [&] {
        const QString p = QFileDialog::getOpenFileName(&dlg, tr("Server directory"), path->text(), tr("JSON (*.json);;All files (*)"));
        if (!p.isEmpty()) {
            path->setText(QDir::toNativeSeparators(p));
            file->setChecked(true);
        }
    });
    connect(buttons, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
    validate();
    dlg.resize(640, 420);
    if (dlg.exec() != QDialog::Accepted) return;
    setServerDirectorySetting(demo->isChecked() ? QStringLiteral("demo") : QDir::fromNativeSeparators(path->text()));
}

// ---------------------------------------------------------------- worker

void MainWindow::runRecallWorker(const QString& what, RecallWork work, bool verdict) {
    m_importing = true; // one writer at a time
    m_recalling = true;
    m_recallIsVerdict = verdict;
    m_cancel = false;
    showWorkerProgress(what);
    m_cancelButton->setToolTip(tr("Stop after the request in flight; a later run picks up the rest"));
    updateActions();
    m_recallDock->show();
    m_recallDock->raise();
    // Progress comes from the worker: hand it to the window's thread.
    RecallProgress progress = [this](qint64 done, qint64 total, const QString& last) {
        QMetaObject::invokeMethod(this, [this, done, total, last] {
            if (!m_recalling) return;
            m_progressBar->setValue(total > 0 ? int(std::min<qint64>(1000, done * 1000 / total)) : 0);
            if (!m_cancel) m_progressLabel->setText(tr("%1 of %2 · %3").arg(num(done), num(total), last));
        }, Qt::QueuedConnection);
    };
    m_recallWatcher.setFuture(QtConcurrent::run([work, progress, cancel = &m_cancel] {
        try {
            return work(cancel, progress);
        } catch (const std::exception& e) {
            RecallOutcome o;
            o.summary = QString::fromUtf8(e.what());
            return o;
        }
    }));
    emit recallStarted();
}

void MainWindow::onRecallFinished() {
    if (!m_recalling) return;
    const RecallOutcome out = m_recallWatcher.result();
    m_recalling = false;
    m_importing = false;
    hideWorkerProgress();
    updateActions();
    m_lastRecallSummary = out.summary;
    m_lastProposed = out.proposed;
    refreshRecall();
    const bool verdict = m_recallIsVerdict;
    if (!out.ok) {
        showError(verdict ? tr("Verdict") : tr("Recall"), out.summary);
    } else {
        statusBar()->showMessage(out.summary, 15000);
        if (!m_interactive) std::fprintf(stderr, "mailtriage: %s\n", qPrintable(out.summary));
        if (verdict) {
            // A clean verdict adds allow entries: detection must drop those messages.
            reloadViews();
            if (m_interactive && out.proposed > 0
                && QMessageBox::question(this, tr("Cascade"),
                                         tr("%1\n\nThe readers of the worm sent it on: %n copies are proposed for the next recall "
                                            "round. Review and recall them now?", nullptr, int(out.proposed)).arg(out.summary))
                       == QMessageBox::Yes)
                QTimer::singleShot(0, this, &MainWindow::proposedRoundDialog);
        }
    }
    if (verdict) emit verdictFinished(out.ok);
    else emit recallFinished(out.ok);
}

// ---------------------------------------------------------------- recall

QString MainWindow::askApprover(const QString& title, const QString& text, const QString& okText, const QString& optionText,
                                bool* option) {
    QDialog dlg(this);
    dlg.setWindowTitle(title);
    auto* layout = new QVBoxLayout(&dlg);
    auto* label = new QLabel(text, &dlg);
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    layout->addWidget(label);
    auto* form = new QFormLayout;
    auto* name = new QLineEdit(settings().value(QStringLiteral("recall/approver"), qEnvironmentVariable("USER")).toString(), &dlg);
    form->addRow(tr("Approved by:"), name);
    layout->addLayout(form);
    QCheckBox* check = nullptr;
    if (!optionText.isEmpty() && option) {
        check = new QCheckBox(optionText, &dlg);
        check->setChecked(*option);
        layout->addWidget(check);
    }
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, &dlg);
    QPushButton* ok = buttons->addButton(okText, QDialogButtonBox::AcceptRole);
    ok->setDefault(true);
    layout->addWidget(buttons);
    connect(name, &QLineEdit::textChanged, &dlg, [ok](const QString& t) { ok->setEnabled(!t.trimmed().isEmpty()); });
    connect(buttons, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
    ok->setEnabled(!name->text().trimmed().isEmpty());
    dlg.resize(620, dlg.sizeHint().height());
    if (dlg.exec() != QDialog::Accepted) return {};
    settings().setValue(QStringLiteral("recall/approver"), name->text().trimmed());
    if (check) *option = check->isChecked();
    return name->text().trimmed();
}

bool MainWindow::startRecall(const QVector<qint64>& messageIds, const QString& approver, bool confirm) {
    m_lastError.clear();
    if (!m_reader || m_importing) {
        m_lastError = !m_reader ? tr("No case is open.") : tr("The case is busy (import, detection or recall); try again when it is done.");
        return false;
    }
    if (messageIds.isEmpty()) {
        m_lastError = tr("Nothing selected to recall.");
        return false;
    }
    recall::ServerDirectory dir;
    if (!loadServerDirectory(dir)) return false;
    // The plan first (stored as proposed requests): quick, and the analyst approves what it says.
    recall::Plan plan;
    try {
        CaseStore store;
        store.open(m_reader->path(), false);
        plan = recall::buildPlan(store.db(), dir, std::vector<std::int64_t>(messageIds.begin(), messageIds.end()), approver.toStdString());
    } catch (const std::exception& e) {
        m_lastError = tr("Could not plan the recall: %1").arg(QString::fromUtf8(e.what()));
        return false;
    }
    refreshRecall();
    if (plan.proposedIds.empty()) {
        m_lastError = plan.recallable == 0
                          ? tr("None of the %n copies can be recalled (external recipients or no connector).", nullptr, int(plan.copies))
                          : tr("Every recallable copy is already in a recall; see the Recall panel.");
        return false;
    }
    QString who = approver;
    if (confirm) {
        QString html = tr("<p><b>Recall plan</b>: %1 messages, %2 copies; <b>%3 recallable</b>, %4 not recallable (external "
                          "recipients or no connector), %5 already in a recall.</p><table cellspacing=0 cellpadding=3>"
                          "<tr><th align=left>Server</th><th align=left>Connector</th><th align=right>Copies</th>"
                          "<th align=right>Recallable</th><th align=right>In mailboxes</th><th align=right>Queued</th>"
                          "<th align=right>Recipients</th></tr>")
                           .arg(num(plan.messages), num(plan.copies), num(plan.recallable), num(plan.notRecallable), num(plan.alreadyKnown));
        int shown = 0;
        for (const auto& [name, sp] : plan.servers) {
            if (++shown > 14) {
                html += tr("<tr><td colspan=7>… and %1 more servers</td></tr>").arg(plan.servers.size() - 14);
                break;
            }
            html += QStringLiteral("<tr><td>%1</td><td>%2</td><td align=right>%3</td><td align=right>%4</td><td align=right>%5</td>"
                                   "<td align=right>%6</td><td align=right>%7</td></tr>")
                        .arg(QString::fromStdString(sp.server).toHtmlEscaped(),
                             sp.connector.empty() ? tr("<i>not recallable</i>") : QString::fromStdString(sp.connector).toHtmlEscaped(),
                             num(sp.copies), num(sp.recallable), num(sp.inMailboxes), num(sp.inQueue), num(sp.recipients.size()));
        }
        html += tr("</table><p>Approving asks each server to suspend its copies: unread mail moves to a Quarantine folder, "
                   "queued mail is put on hold. Nothing is deleted until you give a verdict.</p>");
        who = askApprover(tr("Approve recall"), html, tr("&Approve and recall"));
        if (who.isEmpty()) {
            statusBar()->showMessage(tr("Recall not approved: the plan stays proposed in the Recall panel."), 8000);
            return false;
        }
    }
    if (who.trimmed().isEmpty()) {
        m_lastError = tr("A recall needs the approver's name.");
        return false;
    }
    const QString path = m_reader->path();
    const std::vector<std::int64_t> ids = plan.proposedIds;
    const std::string analyst = who.toStdString();
    runRecallWorker(tr("Recalling %n copies…", nullptr, int(ids.size())),
                    [path, dir, ids, analyst](const std::atomic_bool* cancel, const RecallProgress& progress) {
                        const recall::RunReport r = approveAndRun(path, dir, ids, analyst, cancel, progress);
                        RecallOutcome out;
                        out.ok = true;
                        out.summary = (r.cancelled ? tr("Recall cancelled after %1 requests: %2. Run it again to continue.")
                                                   : tr("Recall done, %1 requests: %2."))
                                          .arg(num(r.processed), outcomesText(r.outcomes));
                        return out;
                    },
                    false);
    return true;
}

bool MainWindow::startProposedRound(const QString& approver) {
    m_lastError.clear();
    if (!m_reader || m_importing) {
        m_lastError = !m_reader ? tr("No case is open.") : tr("The case is busy; try again when it is done.");
        return false;
    }
    QVector<qint64> proposed;
    for (const RecallRequestView& r : m_reader->recallRequests())
        if (r.state == QLatin1String("proposed") && r.round > 0) proposed << r.id;
    if (proposed.isEmpty()) {
        m_lastError = tr("No cascade round is waiting: a virus verdict proposes one when readers sent the worm on.");
        return false;
    }
    recall::ServerDirectory dir;
    if (!loadServerDirectory(dir)) return false;
    const QString path = m_reader->path();
    const std::vector<std::int64_t> ids(proposed.begin(), proposed.end());
    const std::string analyst = approver.toStdString();
    runRecallWorker(tr("Recalling the next round, %n copies…", nullptr, int(ids.size())),
                    [path, dir, ids, analyst](const std::atomic_bool* cancel, const RecallProgress& progress) {
                        const recall::RunReport r = approveAndRun(path, dir, ids, analyst, cancel, progress);
                        RecallOutcome out;
                        out.ok = true;
                        out.summary = tr("Next round: %1.").arg(outcomesText(r.outcomes));
                        return out;
                    },
                    false);
    return true;
}

bool MainWindow::startVerdict(qint64 campaignId, bool virus, const QString& approver, bool excludeJoined) {
    m_lastError.clear();
    if (!m_reader || m_importing) {
        m_lastError = !m_reader ? tr("No case is open.") : tr("The case is busy; try again when it is done.");
        return false;
    }
    if (campaignId <= 0 || approver.trimmed().isEmpty()) {
        m_lastError = tr("A verdict needs a campaign and the approver's name.");
        return false;
    }
    recall::ServerDirectory dir;
    if (!loadServerDirectory(dir)) return false;
    const QString path = m_reader->path();
    const std::string analyst = approver.toStdString();
    runRecallWorker(virus ? tr("Verdict virus: deleting suspended copies…") : tr("Verdict not a virus: releasing suspended copies…"),
                    [path, dir, campaignId, virus, analyst, excludeJoined](const std::atomic_bool* cancel,
                                                                           const RecallProgress& progress) {
                        CaseStore store;
                        store.open(path, false);
                        recall::VerdictOptions o;
                        o.kind = virus ? recall::VerdictKind::Virus : recall::VerdictKind::Clean;
                        o.analyst = analyst;
                        o.campaignId = campaignId;
                        o.exclude.joinedByLink = excludeJoined;
                        o.cancel = cancel;
                        o.progress = [&progress](const recall::RunProgress& p) { progress(p.done, p.total, QString()); };
                        const recall::VerdictReport r = recall::applyVerdict(store.db(), dir, o);
                        RecallOutcome out;
                        out.ok = true;
                        out.proposed = static_cast<qint64>(r.cascade.proposedIds.size());
                        out.summary = virus ? tr("Verdict virus on “%1”: %2; %3 already-read copies followed, %4 proposed for round %5.")
                                                  .arg(QString::fromStdString(r.campaignLabel), outcomesText(r.run.outcomes),
                                                       num(r.cascade.retrieved), num(out.proposed))
                                                  .arg(r.cascade.nextRound)
                                            : tr("Verdict not a virus on “%1”: %2; %3 allow entries recorded, detection will skip them.")
                                                  .arg(QString::fromStdString(r.campaignLabel), outcomesText(r.run.outcomes),
                                                       num(r.allowEntries));
                        return out;
                    },
                    true);
    return true;
}

// ---------------------------------------------------------------- dialogs

void MainWindow::recallCampaignDialog() {
    if (!m_reader) return;
    qint64 campaign = m_selection->campaignId();
    if (campaign <= 0) campaign = m_campaignCombo->currentData().toLongLong();
    const QVector<CampaignView> campaigns = m_reader->campaigns();
    if (campaign <= 0 && campaigns.size() == 1) campaign = campaigns.first().id;
    if (campaign <= 0) {
        showError(tr("Recall"), campaigns.isEmpty() ? tr("No campaign to recall: run detection first (Ctrl+R).")
                                                    : tr("Select a campaign first (the Campaigns panel or the Campaign filter)."));
        return;
    }
    QVector<qint64> ids;
    for (const FlagView& f : m_reader->flaggedMessages(campaign)) ids << f.messageId;
    if (!startRecall(ids, QString(), true) && !m_lastError.isEmpty()) showError(tr("Recall"), m_lastError);
}

void MainWindow::recallSelectedMessageDialog() {
    const qint64 id = selectedMessageId();
    if (id <= 0) {
        showError(tr("Recall"), tr("Select a message first."));
        return;
    }
    if (!startRecall({id}, QString(), true) && !m_lastError.isEmpty()) showError(tr("Recall"), m_lastError);
}

void MainWindow::proposedRoundDialog() {
    if (!m_reader) return;
    int n = 0;
    for (const RecallRequestView& r : m_reader->recallRequests())
        if (r.state == QLatin1String("proposed") && r.round > 0) ++n;
    if (n == 0) {
        showError(tr("Next round"), tr("No cascade round is waiting: a virus verdict proposes one when readers sent the worm on."));
        return;
    }
    const QString who = askApprover(tr("Approve the next round"),
                                    tr("<p>%n copies that readers of the worm sent on are proposed for recall.</p>", nullptr, n),
                                    tr("&Approve and recall"));
    if (who.isEmpty()) return;
    if (!startProposedRound(who)) showError(tr("Next round"), m_lastError);
}

void MainWindow::verdictDialog(bool virus) {
    if (!m_reader) return;
    qint64 campaign = m_selection->campaignId();
    if (campaign <= 0) campaign = m_campaignCombo->currentData().toLongLong();
    const QVector<CampaignView> campaigns = m_reader->campaigns();
    if (campaign <= 0 && campaigns.size() == 1) campaign = campaigns.first().id;
    if (campaign <= 0) {
        showError(tr("Verdict"), tr("Select the campaign to judge first."));
        return;
    }
    QString label;
    int joined = 0;
    for (const CampaignView& c : campaigns)
        if (c.id == campaign) {
            label = c.label;
            joined = c.messages - c.strongMessages;
        }
    qint64 suspended = 0, retrieved = 0;
    for (const RecallRequestView& r : m_reader->recallRequests())
        if (r.campaignId == campaign) {
            if (r.state == QLatin1String("suspended")) ++suspended;
            if (r.state == QLatin1String("already-retrieved")) ++retrieved;
        }
    const QString text = virus
        ? tr("<p><b>Verdict: virus</b> on campaign #%1 “%2”.</p><p>The %3 suspended copies will be <b>deleted from the "
             "servers. This cannot be undone.</b> Copies not confirmed suspended are never deleted.</p><p>For the %4 "
             "copies already read, what those recipients sent on is proposed as the next recall round.</p>")
              .arg(campaign).arg(label.toHtmlEscaped(), num(suspended), num(retrieved))
        : tr("<p><b>Verdict: not a virus</b> on campaign #%1 “%2”.</p><p>The %3 suspended copies go back to the "
             "recipients (out of Quarantine, released from hold), and detection will no longer flag these messages.</p>")
              .arg(campaign).arg(label.toHtmlEscaped(), num(suspended));
    // Messages that only joined through a link are the uncertain part: by default a virus
    // verdict leaves them suspended for a look of their own (nothing irreversible happens).
    bool excludeJoined = virus && joined > 0;
    const QString option = virus && joined > 0
        ? tr("Leave out the %1 messages that only joined through a link (they stay suspended)").arg(num(joined))
        : QString();
    const QString who = askApprover(virus ? tr("Verdict: virus") : tr("Verdict: not a virus"), text,
                                    virus ? tr("&Delete suspended copies") : tr("&Release suspended copies"), option,
                                    &excludeJoined);
    if (who.isEmpty()) return;
    if (!startVerdict(campaign, virus, who, excludeJoined)) showError(tr("Verdict"), m_lastError);
}

void MainWindow::auditTrailDialog() {
    if (!m_reader) return;
    QDialog dlg(this);
    dlg.setWindowTitle(tr("Audit trail — %1").arg(QFileInfo(m_reader->path()).completeBaseName()));
    auto* layout = new QVBoxLayout(&dlg);
    const QVector<AuditView> rows = m_reader->auditTrail();
    auto* note = new QLabel(tr("%n action(s), oldest first; append-only (the case refuses changes to it). Times UTC.", nullptr,
                               int(rows.size())), &dlg);
    layout->addWidget(note);
    auto* table = new QTableWidget(int(rows.size()), 8, &dlg);
    table->setHorizontalHeaderLabels({tr("Time"), tr("Analyst"), tr("Action"), tr("Server"), tr("Recipient"), tr("From"), tr("To"),
                                      tr("Server's answer")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setAlternatingRowColors(true);
    table->horizontalHeader()->setStretchLastSection(true);
    for (int i = 0; i < rows.size(); ++i) {
        const AuditView& a = rows[i];
        const QStringList cells{QDateTime::fromMSecsSinceEpoch(a.at, QTimeZone::utc()).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                                a.analyst, a.action, a.server, a.recipient, a.stateFrom, a.stateTo, a.answer};
        for (int c = 0; c < cells.size(); ++c) table->setItem(i, c, new QTableWidgetItem(cells[c]));
    }
    table->resizeColumnsToContents();
    layout->addWidget(table, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, &dlg);
    QPushButton* csv = buttons->addButton(tr("Export &CSV…"), QDialogButtonBox::ActionRole);
    connect(csv, &QPushButton::clicked, &dlg, [this] { exportDataDialog(int(report::ExportTable::Audit)); });
    connect(buttons, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
    layout->addWidget(buttons);
    dlg.resize(1100, 600);
    dlg.exec();
}

} // namespace mt::gui
