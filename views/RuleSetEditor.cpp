#include "RuleSetEditor.h"

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QRegularExpression>
#include <QVBoxLayout>
#include <algorithm>

namespace mt {

namespace {

QString joinList(const std::vector<std::string>& v) {
    QStringList l;
    for (const std::string& s : v) l << QString::fromStdString(s);
    return l.join(QStringLiteral(", "));
}

// "exe, .scr  pif" -> {"exe", "scr", "pif"} (lower case, without dots, no duplicates).
std::vector<std::string> splitList(const QString& text, bool keepCase = false) {
    std::vector<std::string> out;
    for (QString s : text.split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts)) {
        if (!keepCase) s = s.toLower();
        while (s.startsWith(QLatin1Char('.'))) s.remove(0, 1);
        if (s.isEmpty()) continue;
        const std::string v = s.toStdString();
        if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return out;
}

QDoubleSpinBox* weightSpin(QWidget* parent, double max = 20) {
    auto* s = new QDoubleSpinBox(parent);
    s->setRange(0, max);
    s->setDecimals(2);
    s->setSingleStep(0.25);
    return s;
}

enum BandColumn { BandLabel, BandMin, BandMax, BandWeight, BandColumns };

} // namespace

RuleSetEditor::RuleSetEditor(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_tabs = new QTabWidget(this);
    layout->addWidget(m_tabs);

    // Rules
    auto* rulesPage = new QWidget(m_tabs);
    auto* rulesLayout = new QVBoxLayout(rulesPage);
    m_model = new det::RuleTableModel(this);
    m_table = new QTableView(rulesPage);
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed
                             | QAbstractItemView::AnyKeyPressed | QAbstractItemView::SelectedClicked);
    m_table->horizontalHeader()->setSectionResizeMode(det::RuleTableModel::Description, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(det::RuleTableModel::Rule, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(det::RuleTableModel::Enabled, QHeaderView::ResizeToContents);
    m_table->setAlternatingRowColors(true);
    rulesLayout->addWidget(m_table, 1);
    auto* hint = new QLabel(tr("Double-click a window, threshold or weight to change it (windows: 600, 10m, 2h, 1d). "
                               "A rule fires when its count in the window ending at a message reaches the threshold; "
                               "a message is flagged when the weights of the rules that fired add up to the decision threshold."),
                            rulesPage);
    hint->setWordWrap(true);
    rulesLayout->addWidget(hint);
    auto* decision = new QFormLayout;
    m_threshold = weightSpin(rulesPage, 50);
    m_threshold->setToolTip(tr("A message is flagged when its score reaches this"));
    m_behaviourCap = weightSpin(rulesPage, 50);
    m_behaviourCap->setToolTip(tr("Rate, volume, size, baseline and fan-out evidence together count at most this much"));
    m_prefixV4 = new QSpinBox(rulesPage);
    m_prefixV4->setRange(8, 32);
    m_prefixV6 = new QSpinBox(rulesPage);
    m_prefixV6->setRange(16, 128);
    decision->addRow(tr("Decision &threshold:"), m_threshold);
    decision->addRow(tr("&Behaviour evidence cap:"), m_behaviourCap);
    decision->addRow(tr("Subnet prefix IPv&4:"), m_prefixV4);
    decision->addRow(tr("Subnet prefix IPv&6:"), m_prefixV6);
    rulesLayout->addLayout(decision);
    m_tabs->addTab(rulesPage, tr("&Rules"));

    // Attachment types
    auto* typesPage = new QWidget(m_tabs);
    auto* types = new QFormLayout(typesPage);
    auto line = [&](QLineEdit*& edit, const QString& tip) {
        edit = new QLineEdit(typesPage);
        edit->setToolTip(tip);
        edit->setClearButtonEnabled(true);
        connect(edit, &QLineEdit::textEdited, this, &RuleSetEditor::markModified);
        return edit;
    };
    types->addRow(new QLabel(tr("Extensions, separated by commas or spaces, without the dot."), typesPage));
    types->addRow(tr("&Executables:"), line(m_executable, tr("Weighted as dangerous")));
    types->addRow(tr("&Scripts:"), line(m_script, tr("Weighted as dangerous")));
    types->addRow(tr("&Macro documents:"), line(m_macro, tr("Documents that can carry macros")));
    types->addRow(tr("&Archives:"), line(m_archive, tr("Archives (weight of their own, 0 by default)")));
    types->addRow(tr("&Decoys:"), line(m_decoy, tr("What a double extension pretends to be: invoice.pdf.exe")));
    types->addRow(tr("MIME &types:"), line(m_mime, tr("For sources that log MIME types (Postfix logs file names only)")));
    m_weightMacro = weightSpin(typesPage);
    m_weightArchive = weightSpin(typesPage);
    types->addRow(tr("Weight of a &macro document:"), m_weightMacro);
    types->addRow(tr("Weight of an a&rchive:"), m_weightArchive);
    m_tabs->addTab(typesPage, tr("Attachment &types"));

    // Size bands
    auto* bandsPage = new QWidget(m_tabs);
    auto* bandsLayout = new QVBoxLayout(bandsPage);
    m_bands = new QTableWidget(0, BandColumns, bandsPage);
    m_bands->setHorizontalHeaderLabels({tr("Band"), tr("From (bytes)"), tr("Below (bytes, 0: no limit)"), tr("Weight")});
    m_bands->horizontalHeader()->setSectionResizeMode(BandLabel, QHeaderView::Stretch);
    m_bands->verticalHeader()->hide();
    bandsLayout->addWidget(m_bands, 1);
    auto* bandButtons = new QHBoxLayout;
    auto* addBand = new QPushButton(tr("&Add band"), bandsPage);
    auto* removeBand = new QPushButton(tr("Re&move band"), bandsPage);
    bandButtons->addWidget(addBand);
    bandButtons->addWidget(removeBand);
    bandButtons->addStretch();
    bandsLayout->addLayout(bandButtons);
    connect(addBand, &QPushButton::clicked, this, [this] {
        addBandRow({"new band", 0, 0, 0});
        markModified();
    });
    connect(removeBand, &QPushButton::clicked, this, [this] {
        const int row = m_bands->currentRow();
        if (row < 0) return;
        m_bands->removeRow(row);
        markModified();
    });
    connect(m_bands, &QTableWidget::itemChanged, this, [this] { markModified(); });
    m_tabs->addTab(bandsPage, tr("Si&ze bands"));

    for (QDoubleSpinBox* s : {m_threshold, m_behaviourCap, m_weightMacro, m_weightArchive})
        connect(s, &QDoubleSpinBox::valueChanged, this, &RuleSetEditor::markModified);
    for (QSpinBox* s : {m_prefixV4, m_prefixV6}) connect(s, &QSpinBox::valueChanged, this, &RuleSetEditor::markModified);
    connect(m_model, &det::RuleTableModel::ruleSetEdited, this, &RuleSetEditor::markModified);

    setRuleSet(det::RuleSet::defaults());
}

void RuleSetEditor::markModified() {
    if (m_loading) return;
    m_modified = true;
    emit modified();
}

void RuleSetEditor::addBandRow(const det::SizeBand& band) {
    const int row = m_bands->rowCount();
    m_bands->insertRow(row);
    m_bands->setItem(row, BandLabel, new QTableWidgetItem(QString::fromStdString(band.label)));
    m_bands->setItem(row, BandMin, new QTableWidgetItem(QString::number(band.min)));
    m_bands->setItem(row, BandMax, new QTableWidgetItem(QString::number(band.max)));
    m_bands->setItem(row, BandWeight, new QTableWidgetItem(QString::number(band.weight)));
}

void RuleSetEditor::setRuleSet(const det::RuleSet& rules) {
    m_loading = true;
    m_model->setRuleSet(rules);
    m_threshold->setValue(rules.decision.threshold);
    m_behaviourCap->setValue(rules.decision.behaviourCap);
    m_prefixV4->setValue(rules.subnetPrefixV4);
    m_prefixV6->setValue(rules.subnetPrefixV6);
    m_executable->setText(joinList(rules.type.executable));
    m_script->setText(joinList(rules.type.script));
    m_macro->setText(joinList(rules.type.macro));
    m_archive->setText(joinList(rules.type.archive));
    m_decoy->setText(joinList(rules.type.decoy));
    m_mime->setText(joinList(rules.type.mimeTypes));
    m_weightMacro->setValue(rules.type.weightMacro);
    m_weightArchive->setValue(rules.type.weightArchive);
    m_bands->setRowCount(0);
    for (const det::SizeBand& b : rules.size.bands) addBandRow(b);
    m_bands->resizeColumnsToContents();
    m_bands->horizontalHeader()->setSectionResizeMode(BandLabel, QHeaderView::Stretch);
    m_table->resizeColumnsToContents();
    m_table->horizontalHeader()->setSectionResizeMode(det::RuleTableModel::Description, QHeaderView::Stretch);
    m_modified = false;
    m_loading = false;
}

bool RuleSetEditor::ruleSet(det::RuleSet& out, QString* error) const {
    det::RuleSet r = m_model->ruleSet(); // the table's edits on top of what was loaded
    r.decision.threshold = m_threshold->value();
    r.decision.behaviourCap = m_behaviourCap->value();
    r.subnetPrefixV4 = m_prefixV4->value();
    r.subnetPrefixV6 = m_prefixV6->value();
    r.type.executable = splitList(m_executable->text());
    r.type.script = splitList(m_script->text());
    r.type.macro = splitList(m_macro->text());
    r.type.archive = splitList(m_archive->text());
    r.type.decoy = splitList(m_decoy->text());
    r.type.mimeTypes = splitList(m_mime->text());
    r.type.weightMacro = m_weightMacro->value();
    r.type.weightArchive = m_weightArchive->value();
    r.size.bands.clear();
    for (int row = 0; row < m_bands->rowCount(); ++row) {
        auto text = [&](int col) { return m_bands->item(row, col) ? m_bands->item(row, col)->text().trimmed() : QString(); };
        det::SizeBand b;
        bool okMin = false, okMax = false, okWeight = false;
        b.label = text(BandLabel).toStdString();
        b.min = text(BandMin).toLongLong(&okMin);
        b.max = text(BandMax).toLongLong(&okMax);
        b.weight = text(BandWeight).toDouble(&okWeight);
        if (!okMin || !okMax || !okWeight || b.min < 0 || b.max < 0 || (b.max != 0 && b.max <= b.min)) {
            if (error)
                *error = tr("Size band %1 (\"%2\"): bounds must be whole numbers of bytes with the upper bound above the "
                            "lower one (0: no upper bound), and the weight a number.")
                             .arg(row + 1)
                             .arg(text(BandLabel));
            return false;
        }
        r.size.bands.push_back(b);
    }
    out = r;
    return true;
}

QLineEdit* RuleSetEditor::typeListEdit(const QString& list) const {
    if (list == QLatin1String("executable")) return m_executable;
    if (list == QLatin1String("script")) return m_script;
    if (list == QLatin1String("macro")) return m_macro;
    if (list == QLatin1String("archive")) return m_archive;
    if (list == QLatin1String("decoy")) return m_decoy;
    if (list == QLatin1String("mime")) return m_mime;
    return nullptr;
}

} // namespace mt
