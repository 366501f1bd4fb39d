// The main window's detection part (issue 4): the Detection menu, detection runs on a worker
// thread, the rule editor, the campaign and rule filters of the message list and the evidence
// in the details pane.
#include "MainWindow.h"
#include "Settings.h"

#include "model/AnalysisSelection.h"
#include "model/CaseStore.h"
#include "model/MessageTableModel.h"
#include "views/MessageDetailsView.h"
#include "views/RuleSetEditor.h"

#include <QAction>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QStatusBar>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cstdio>

namespace mt::gui {

namespace {

QString num(qint64 n) { return QLocale().toString(n); }

// What each rule id means, for the rule filter's tooltips.
QString ruleTitle(const QString& id) {
    if (id == QLatin1String(det::kRuleType)) return MainWindow::tr("Attachment type");
    if (id == QLatin1String(det::kRuleSize)) return MainWindow::tr("Size band");
    if (id == QLatin1String(det::kRuleBaseline)) return MainWindow::tr("Above its own baseline");
    if (id == QLatin1String(det::kRuleFanout)) return MainWindow::tr("Fan-out");
    if (id == QLatin1String(det::kRuleBurst)) return MainWindow::tr("Burst of the same content");
    if (id == QLatin1String(det::kRulePropagation)) return MainWindow::tr("Sent on what it received");
    if (id == QLatin1String(det::kRuleSimilar)) return MainWindow::tr("Like mail flagged earlier");
    if (id == QLatin1String(det::kRuleCampaign)) return MainWindow::tr("Joined a detected campaign");
    return id;
}

} // namespace

void MainWindow::buildDetectionMenu() {
    QMenu* menu = menuBar()->addMenu(tr("De&tection"));
    m_runDetectAct = menu->addAction(tr("&Run detection"), this, [this] {
        if (!runDetection(false)) showError(tr("Detection"), m_lastError);
    });
    m_runDetectAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_runDetectAct->setStatusTip(tr("Judge the messages with the case's rules (only what is new since the last run)"));
    m_fullDetectAct = menu->addAction(tr("Run detection on &everything"), this, [this] {
        if (!runDetection(true)) showError(tr("Detection"), m_lastError);
    });
    m_fullDetectAct->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    menu->addSeparator();
    m_editRulesAct = menu->addAction(tr("&Rules…"), this, &MainWindow::editRules);
    m_editRulesAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_editRulesAct->setStatusTip(tr("Switch rules on and off, change thresholds, windows and type lists, and re-run"));
    m_importRulesAct = menu->addAction(tr("&Import rules…"), this, &MainWindow::importRulesDialog);
    m_exportRulesAct = menu->addAction(tr("E&xport rules…"), this, &MainWindow::exportRulesDialog);
    menu->addSeparator();
    m_autoDetectAct = menu->addAction(tr("Detect after each &import"));
    m_autoDetectAct->setCheckable(true);
    m_autoDetectAct->setChecked(detectsAfterImport());
    connect(m_autoDetectAct, &QAction::toggled, this, &MainWindow::setDetectAfterImport);
    menu->addSeparator();
    QAction* flagged = menu->addAction(tr("Show &flagged messages"), this, [this] { setCampaignFilter(-1); });
    flagged->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_G));
    menu->addAction(tr("Show &all messages"), this, [this] {
        setCampaignFilter(0);
        setRuleFilter(QString());
    });
}

bool MainWindow::detectsAfterImport() const { return settings().value(QStringLiteral("detection/afterImport"), true).toBool(); }

void MainWindow::setDetectAfterImport(bool on) {
    settings().setValue(QStringLiteral("detection/afterImport"), on);
    if (m_autoDetectAct && m_autoDetectAct->isChecked() != on) m_autoDetectAct->setChecked(on);
}

void MainWindow::buildDetectionFilters(QWidget* parent, QHBoxLayout* row) {
    auto* campaignLabel = new QLabel(tr("&Campaign:"), parent);
    m_campaignCombo = new QComboBox(parent);
    m_campaignCombo->setObjectName(QStringLiteral("campaignFilter"));
    m_campaignCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_campaignCombo->setMinimumContentsLength(14);
    m_campaignCombo->setMaximumWidth(m_campaignCombo->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 30);
    m_campaignCombo->setToolTip(tr("List only the messages of one campaign, or every flagged message (Ctrl+G)"));
    campaignLabel->setBuddy(m_campaignCombo);
    auto* ruleLabel = new QLabel(tr("R&ule:"), parent);
    m_ruleCombo = new QComboBox(parent);
    m_ruleCombo->setObjectName(QStringLiteral("ruleFilter"));
    m_ruleCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_ruleCombo->setMinimumContentsLength(10);
    m_ruleCombo->setMaximumWidth(m_ruleCombo->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 22);
    m_ruleCombo->setToolTip(tr("List only the messages a rule hit"));
    ruleLabel->setBuddy(m_ruleCombo);
    // "Selection: unit Sales/North · 09:20–09:40  [Clear]": what the other views selected.
    m_selectionBar = new QWidget(parent);
    m_selectionBar->setObjectName(QStringLiteral("selectionBar"));
    {
        auto* bar = new QHBoxLayout(m_selectionBar);
        bar->setContentsMargins(0, 0, 0, 0);
        bar->setSpacing(4);
        m_selectionLabel = new QLabel(m_selectionBar);
        m_selectionLabel->setStyleSheet(QStringLiteral("QLabel { background:#dceefb; color:#0b3a5c; border-radius:3px; padding:1px 8px; }"));
        auto* clear = new QToolButton(m_selectionBar);
        clear->setObjectName(QStringLiteral("clearSelection"));
        clear->setText(tr("Clear"));
        clear->setToolTip(tr("Drop the unit, user and time range selected in the other views"));
        connect(clear, &QToolButton::clicked, this, [this] {
            m_selection->setUnit(0, {});
            m_selection->setUser({});
            m_selection->setTimeRange(0, 0);
        });
        bar->addWidget(m_selectionLabel);
        bar->addWidget(clear);
    }
    m_selectionBar->hide();
    row->addWidget(m_selectionBar);
    row->addWidget(campaignLabel);
    row->addWidget(m_campaignCombo);
    row->addWidget(ruleLabel);
    row->addWidget(m_ruleCombo);
    connect(m_campaignCombo, &QComboBox::activated, this, [this] {
        const qint64 id = m_campaignCombo->currentData().toLongLong();
        m_selection->setCampaign(id > 0 ? id : 0);
        applyScope();
    });
    connect(m_ruleCombo, &QComboBox::activated, this, [this] { applyScope(); });
}

void MainWindow::refreshDetectionFilters() {
    const qint64 campaign = m_campaignCombo->currentData().toLongLong();
    const QString rule = m_ruleCombo->currentData().toString();
    QSignalBlocker b1(m_campaignCombo), b2(m_ruleCombo);
    m_campaignCombo->clear();
    m_ruleCombo->clear();
    m_campaignLabels.clear();
    m_campaignCombo->addItem(tr("Any message"), qint64(0));
    m_ruleCombo->addItem(tr("Any rule"), QString());
    const bool detected = m_reader && m_reader->hasDetection();
    m_campaignCombo->setEnabled(detected);
    m_ruleCombo->setEnabled(detected);
    if (!detected) {
        m_campaignCombo->setItemText(0, m_reader ? tr("(not detected yet: Ctrl+R)") : tr("Any message"));
        applyScope();
        return;
    }
    const QVector<CampaignView> campaigns = m_reader->campaigns();
    qint64 flagged = 0;
    for (const CampaignView& c : campaigns) flagged += c.messages;
    m_campaignCombo->addItem(tr("Flagged (%1)").arg(num(flagged)), qint64(-1));
    for (const CampaignView& c : campaigns) {
        m_campaignLabels.insert(c.id, c.label);
        m_campaignCombo->addItem(tr("#%1 %2 (%3)").arg(c.id).arg(c.label.left(40), num(c.messages)), c.id);
        m_campaignCombo->setItemData(m_campaignCombo->count() - 1,
                                     tr("Campaign #%1: %2\npatient zero %3\n%4 messages, %5 senders, %6 recipients, %7 generations\n"
                                        "%8 on their own evidence, %9 joined by a link")
                                         .arg(c.id).arg(c.label, c.patientZero, num(c.messages), num(c.senders),
                                                        num(c.recipients), num(c.generations), num(c.strongMessages),
                                                        num(c.messages - c.strongMessages)),
                                     Qt::ToolTipRole);
    }
    for (const auto& [id, count] : m_reader->ruleHitCounts()) {
        m_ruleCombo->addItem(QStringLiteral("%1 (%2)").arg(id, num(count)), id);
        m_ruleCombo->setItemData(m_ruleCombo->count() - 1, ruleTitle(id), Qt::ToolTipRole);
    }
    // Keep what the analyst had chosen when it still exists.
    const int ci = m_campaignCombo->findData(campaign);
    m_campaignCombo->setCurrentIndex(ci >= 0 ? ci : 0);
    const int ri = m_ruleCombo->findData(rule);
    m_ruleCombo->setCurrentIndex(ri >= 0 ? ri : 0);
    applyScope();
}

void MainWindow::setCampaignFilter(qint64 campaignId) {
    const int i = m_campaignCombo->findData(campaignId);
    m_campaignCombo->setCurrentIndex(i >= 0 ? i : 0);
    m_selection->setCampaign(campaignId > 0 && i >= 0 ? campaignId : 0);
    applyScope();
}

void MainWindow::setRuleFilter(const QString& ruleId) {
    const int i = m_ruleCombo->findData(ruleId);
    m_ruleCombo->setCurrentIndex(i >= 0 ? i : 0);
    applyScope();
}

void MainWindow::applyScope() {
    MessageScope scope = m_model->scope();
    const qint64 campaign = m_campaignCombo->currentData().toLongLong();
    scope.flaggedOnly = campaign == -1;
    scope.campaignId = campaign > 0 ? campaign : 0;
    scope.rule = m_ruleCombo->currentData().toString();
    scope.unitPath = m_selection->unitPath();
    scope.user = m_selection->user();
    scope.from = m_selection->timeFrom();
    scope.to = m_selection->timeTo();
    m_model->setScope(scope);
    const QString text = selectionText();
    m_selectionLabel->setText(text);
    m_selectionLabel->setToolTip(text);
    m_selectionBar->setVisible(!text.isEmpty());
}

QString MainWindow::selectionText() const {
    QStringList parts;
    if (!m_selection->unitPath().isEmpty()) parts << tr("unit %1").arg(m_selection->unitPath());
    if (!m_selection->user().isEmpty()) parts << tr("user %1").arg(m_selection->user());
    if (m_selection->hasTimeRange()) {
        const QString from = MessageTableModel::formatTime(m_selection->timeFrom());
        const QString to = MessageTableModel::formatTime(m_selection->timeTo());
        parts << QStringLiteral("%1 – %2").arg(from, to.left(10) == from.left(10) ? to.mid(11) : to);
    }
    return parts.join(QStringLiteral(" · "));
}

void MainWindow::onSelectionChanged(int facets) {
    if (facets & AnalysisSelection::Campaign) {
        const qint64 id = m_selection->campaignId();
        const qint64 shown = m_campaignCombo->currentData().toLongLong();
        if (id > 0 && shown != id) {
            const int i = m_campaignCombo->findData(id);
            if (i >= 0) m_campaignCombo->setCurrentIndex(i);
        } else if (id == 0 && shown > 0) {
            m_campaignCombo->setCurrentIndex(0);
        }
    }
    if (facets & (AnalysisSelection::Unit | AnalysisSelection::User | AnalysisSelection::TimeRange | AnalysisSelection::Campaign))
        applyScope();
    if ((facets & AnalysisSelection::Message) && m_selection->messageId() > 0 && selectedMessageId() != m_selection->messageId()) {
        // Listed already: select it now; otherwise once the ids arrive (onIdsReloaded keeps it).
        if (!selectMessage(m_selection->messageId()) && m_reader) {
            const QVector<MessageView> found = m_reader->messages({m_selection->messageId()});
            if (!found.isEmpty()) {
                m_details->showMessage(found.first(), m_reader->copies(found.first().id));
                showEvidenceOf(found.first().id);
            }
        }
    }
}

det::RuleSet MainWindow::caseRuleSet() const {
    det::RuleSet rules = det::RuleSet::defaults();
    if (!m_reader) return rules;
    const QByteArray json = m_reader->ruleSetJson();
    if (!json.isEmpty() && !det::RuleSet::fromJson(json, rules))
        rules = det::RuleSet::defaults(); // a case from a newer build: start from the defaults
    return rules;
}

bool MainWindow::runDetection(bool full) {
    m_lastError.clear();
    if (!m_reader) {
        m_lastError = tr("No case is open: open or create one first.");
        return false;
    }
    if (m_importing) {
        m_lastError = m_detecting ? tr("Detection is already running.") : tr("An import is running; detection waits for it.");
        return false;
    }
    m_importing = true; // one writer at a time: imports, drills and detection exclude each other
    m_detecting = true;
    showWorkerProgress(full ? tr("Detecting on every message…") : tr("Detecting…"));
    // Detection takes seconds even on a million messages and replaces its results in one
    // transaction: a busy bar, and nothing to cancel half-way.
    m_progressBar->setRange(0, 0);
    m_cancelButton->hide();
    updateActions();
    const QString path = m_reader->path();
    m_detectWatcher.setFuture(QtConcurrent::run([path, full] {
        DetectOutcome out;
        try {
            CaseStore store;
            store.open(path, false);
            out.report = det::CaseDetection::run(store, !full);
            out.ok = true;
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
    emit detectionStarted();
    return true;
}

void MainWindow::onDetectionFinished() {
    if (!m_detecting) return;
    const DetectOutcome out = m_detectWatcher.result();
    m_detecting = false;
    m_importing = false;
    m_progressBar->setRange(0, 1000);
    hideWorkerProgress();
    updateActions();
    if (!out.ok) {
        showError(tr("Detection"), tr("Detection failed: %1\nThe case keeps the results of the previous run.").arg(out.error));
        emit detectionFinished(false);
        return;
    }
    m_lastDetection = out.report;
    const auto& r = out.report;
    QString text = r.upToDate ? tr("Detection: up to date, %1 flagged in %2 campaign(s).").arg(num(r.flagged)).arg(r.campaigns)
                              : tr("Detection: %1 flagged in %2 campaign(s); %3 of %4 messages judged%5 in %6.")
                                    .arg(num(r.flagged))
                                    .arg(r.campaigns)
                                    .arg(num(r.processed), num(r.messages))
                                    .arg(r.incremental ? tr(" (incremental)") : QString())
                                    .arg(r.loadMs + r.detectMs + r.writeMs < 1000
                                             ? tr("%1 ms").arg(r.loadMs + r.detectMs + r.writeMs)
                                             : tr("%1 s").arg(QLocale().toString((r.loadMs + r.detectMs + r.writeMs) / 1000.0, 'f', 1)));
    statusBar()->showMessage(text, 10000);
    if (!m_interactive) std::fprintf(stderr, "mailtriage: %s\n", qPrintable(text));
    refreshDetectionFilters();
    m_model->reload(); // the Flagged column
    reloadViews();
    emit detectionFinished(true);
}

void MainWindow::showEvidenceOf(qint64 messageId) {
    if (!m_reader || !m_reader->hasDetection()) return;
    const FlagView flag = m_reader->flag(messageId);
    m_details->showEvidence(flag, m_campaignLabels.value(flag.campaignId), m_reader->hits(messageId));
}

bool MainWindow::applyRuleSet(const det::RuleSet& rules, bool rerun) {
    m_lastError.clear();
    if (!m_reader) {
        m_lastError = tr("No case is open.");
        return false;
    }
    if (m_importing) {
        m_lastError = tr("The case is busy (import or detection); try again when it is done.");
        return false;
    }
    try {
        CaseStore store;
        store.open(m_reader->path(), false);
        det::CaseDetection::storeRuleSet(store, rules);
    } catch (const std::exception& e) {
        m_lastError = tr("Could not store the rules: %1").arg(QString::fromUtf8(e.what()));
        return false;
    }
    return !rerun || runDetection(true);
}

void MainWindow::editRules() {
    if (!m_reader) return;
    QDialog dlg(this);
    dlg.setWindowTitle(tr("Detection rules — %1").arg(QFileInfo(m_reader->path()).completeBaseName()));
    auto* layout = new QVBoxLayout(&dlg);
    auto* editor = new RuleSetEditor(&dlg);
    editor->setRuleSet(caseRuleSet());
    layout->addWidget(editor, 1);
    auto* buttons = new QDialogButtonBox(&dlg);
    QPushButton* run = buttons->addButton(tr("Save and &re-run"), QDialogButtonBox::AcceptRole);
    QPushButton* save = buttons->addButton(tr("&Save"), QDialogButtonBox::ApplyRole);
    QPushButton* defaults = buttons->addButton(tr("Restore &defaults"), QDialogButtonBox::ResetRole);
    buttons->addButton(QDialogButtonBox::Cancel);
    run->setDefault(true);
    run->setToolTip(tr("Store these rules in the case and run detection on every message with them (Ctrl+Return)"));
    run->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    layout->addWidget(buttons);
    bool rerun = false;
    auto accept = [&](bool withRun) {
        det::RuleSet rules;
        QString error;
        if (!editor->ruleSet(rules, &error)) {
            QMessageBox::warning(&dlg, tr("Detection rules"), error);
            return;
        }
        if (!applyRuleSet(rules, false)) {
            QMessageBox::warning(&dlg, tr("Detection rules"), m_lastError);
            return;
        }
        rerun = withRun;
        dlg.accept();
    };
    connect(run, &QPushButton::clicked, &dlg, [&] { accept(true); });
    connect(save, &QPushButton::clicked, &dlg, [&] { accept(false); });
    connect(defaults, &QPushButton::clicked, &dlg, [&] {
        editor->setRuleSet(det::RuleSet::defaults());
        editor->setModified(true);
    });
    connect(buttons, &QDialogButtonBox::rejected, &dlg, [&] {
        if (editor->isModified()
            && QMessageBox::question(&dlg, tr("Detection rules"), tr("Discard the changes to the rules?"),
                                     QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Discard)
            return;
        dlg.reject();
    });
    dlg.resize(980, 620);
    if (dlg.exec() != QDialog::Accepted) return;
    if (rerun && !runDetection(true)) showError(tr("Detection"), m_lastError);
    else if (!rerun) statusBar()->showMessage(tr("Rules saved; run detection (Ctrl+Shift+R) to apply them."), 8000);
}

void MainWindow::exportRulesDialog() {
    if (!m_reader) return;
    QString path = QFileDialog::getSaveFileName(this, tr("Export rules"),
                                                QFileInfo(m_reader->path()).absolutePath() + QStringLiteral("/rules.json"),
                                                tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(caseRuleSet().toJsonBytes()) < 0 || !f.commit()) {
        showError(tr("Export rules"), tr("Could not write %1: %2").arg(QDir::toNativeSeparators(path), f.errorString()));
        return;
    }
    statusBar()->showMessage(tr("Rules exported to %1").arg(QDir::toNativeSeparators(path)), 5000);
}

void MainWindow::importRulesDialog() {
    if (!m_reader) return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Import rules"), QFileInfo(m_reader->path()).absolutePath(),
                                                      tr("JSON (*.json);;All files (*)"));
    if (path.isEmpty()) return;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        showError(tr("Import rules"), tr("Could not read %1: %2").arg(QDir::toNativeSeparators(path), f.errorString()));
        return;
    }
    det::RuleSet rules;
    QString error;
    if (!det::RuleSet::fromJson(f.readAll(), rules, &error)) {
        showError(tr("Import rules"), tr("%1 is not a rule set: %2").arg(QDir::toNativeSeparators(path), error));
        return;
    }
    if (!applyRuleSet(rules, true)) showError(tr("Import rules"), m_lastError);
}

} // namespace mt::gui
