#include "RuleTableModel.h"

#include <QLocale>
#include <QRegularExpression>

namespace mt::det {

namespace {

QString keyDescription(KeyKind k) {
    switch (k) {
    case KeyKind::Sender: return RuleTableModel::tr("sender");
    case KeyKind::Client: return RuleTableModel::tr("workstation (client host or IP)");
    case KeyKind::Subnet: return RuleTableModel::tr("subnet (router)");
    case KeyKind::Unit: return RuleTableModel::tr("unit");
    case KeyKind::Server: return RuleTableModel::tr("submitting server");
    }
    return {};
}

QString linkDescription(LinkKind k) {
    switch (k) {
    case LinkKind::ClientServer: return RuleTableModel::tr("client to server");
    case LinkKind::ServerServer: return RuleTableModel::tr("server to server");
    case LinkKind::UnitUnit: return RuleTableModel::tr("unit to unit");
    }
    return {};
}

} // namespace

RuleTableModel::RuleTableModel(QObject* parent) : QAbstractTableModel(parent) { setRuleSet(RuleSet::defaults()); }

void RuleTableModel::setRuleSet(const RuleSet& rules) {
    beginResetModel();
    m_rules = rules;
    rebuildRows();
    endResetModel();
}

void RuleTableModel::rebuildRows() {
    m_rows.clear();
    for (RateRule& r : m_rules.rates) {
        RowRef row;
        row.id = QString::fromStdString(r.id);
        row.description = (r.metric == Metric::Messages ? tr("Messages per %1 in the window") : tr("Recipients per %1 in the window"))
                              .arg(keyDescription(r.key));
        row.enabled = &r.enabled;
        row.window = &r.windowSec;
        row.threshold = &r.threshold;
        row.weight = &r.weight;
        row.thresholdUnit = r.metric == Metric::Messages ? tr("messages") : tr("recipients");
        m_rows.push_back(row);
    }
    for (VolumeRule& r : m_rules.volumes) {
        RowRef row;
        row.id = QString::fromStdString(r.id);
        row.description = tr("Bytes per link, %1, in the window").arg(linkDescription(r.link));
        row.enabled = &r.enabled;
        row.window = &r.windowSec;
        row.threshold = &r.thresholdBytes;
        row.weight = &r.weight;
        row.thresholdUnit = tr("bytes");
        m_rows.push_back(row);
    }
    m_rows.push_back({QString::fromLatin1(kRuleBaseline), tr("A key's count against its own history (threshold: minimum count)"),
                      &m_rules.baseline.enabled, &m_rules.baseline.windowSec, &m_rules.baseline.minCount,
                      &m_rules.baseline.weight, tr("messages")});
    m_rows.push_back({QString::fromLatin1(kRuleFanout), tr("Distinct recipients of one sender in the window"),
                      &m_rules.fanout.enabled, &m_rules.fanout.windowSec, &m_rules.fanout.threshold,
                      &m_rules.fanout.weight, tr("recipients")});
    m_rows.push_back({QString::fromLatin1(kRuleBurst), tr("Same content sent as separate messages by one sender"),
                      &m_rules.burst.enabled, &m_rules.burst.windowSec, &m_rules.burst.threshold, &m_rules.burst.weight,
                      tr("messages")});
    m_rows.push_back({QString::fromLatin1(kRulePropagation), tr("Sends on what it received shortly before (weight: same attachment)"),
                      &m_rules.propagation.enabled, &m_rules.propagation.windowSec, nullptr,
                      &m_rules.propagation.weightStrong, {}});
    m_rows.push_back({QString::fromLatin1(kRuleSimilar), tr("Shares content with mail flagged earlier from another sender"),
                      &m_rules.similar.enabled, &m_rules.similar.windowSec, nullptr, &m_rules.similar.weight, {}});
    m_rows.push_back({QString::fromLatin1(kRuleConfirm), tr("Send confirmation of enrolled users (window: replay memory)"),
                      &m_rules.confirm.enabled, &m_rules.confirm.replayWindowSec, nullptr, &m_rules.confirm.weight, {}});
    m_rows.push_back({QString::fromLatin1(kRuleType), tr("Attachment types (weight: executables, scripts, double extensions)"),
                      &m_rules.type.enabled, nullptr, nullptr, &m_rules.type.weightDangerous, {}});
    m_rows.push_back({QString::fromLatin1(kRuleSize), tr("Size bands (see the Size bands tab)"), &m_rules.size.enabled,
                      nullptr, nullptr, nullptr, {}});
}

QString RuleTableModel::ruleId(int row) const { return row >= 0 && row < m_rows.size() ? m_rows[row].id : QString(); }

int RuleTableModel::rowOfRule(const QString& id) const {
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].id == id) return i;
    return -1;
}

int RuleTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_rows.size(); }
int RuleTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString RuleTableModel::formatWindow(int s) {
    if (s <= 0) return QStringLiteral("0 s");
    if (s % 86400 == 0) return tr("%1 d").arg(s / 86400);
    if (s % 3600 == 0) return tr("%1 h").arg(s / 3600);
    if (s % 60 == 0) return tr("%1 min").arg(s / 60);
    return tr("%1 s").arg(s);
}

bool RuleTableModel::parseWindow(const QString& text, int& seconds) {
    static const QRegularExpression re(QStringLiteral("^\\s*(\\d+)\\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days)?\\s*$"),
                                       QRegularExpression::CaseInsensitiveOption);
    const auto m = re.match(text);
    if (!m.hasMatch()) return false;
    bool ok = false;
    const qint64 n = m.captured(1).toLongLong(&ok);
    if (!ok) return false;
    const QString unit = m.captured(2).toLower();
    qint64 mult = 1;
    if (unit.startsWith(QLatin1Char('m'))) mult = 60;
    else if (unit.startsWith(QLatin1Char('h'))) mult = 3600;
    else if (unit.startsWith(QLatin1Char('d'))) mult = 86400;
    const qint64 v = n * mult;
    if (v <= 0 || v > 30LL * 86400) return false; // a month is more than any rule can use
    seconds = static_cast<int>(v);
    return true;
}

QVariant RuleTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size()) return {};
    const RowRef& r = m_rows[index.row()];
    const int col = index.column();
    if (col == Enabled) {
        if (role == Qt::CheckStateRole) return *r.enabled ? Qt::Checked : Qt::Unchecked;
        if (role == Qt::ToolTipRole) return *r.enabled ? tr("On: the rule counts") : tr("Off: the rule is skipped");
        return {};
    }
    if (role == Qt::TextAlignmentRole)
        return col >= Window ? QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter) : QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (col) {
        case Rule: return r.id;
        case Description: return r.description;
        case Window:
            if (!r.window) return {};
            return role == Qt::EditRole ? QVariant(formatWindow(*r.window)) : QVariant(formatWindow(*r.window));
        case Threshold:
            if (!r.threshold) return {};
            if (role == Qt::EditRole) return QVariant::fromValue<qlonglong>(*r.threshold);
            return QStringLiteral("%1 %2").arg(QLocale().toString(static_cast<qlonglong>(*r.threshold)), r.thresholdUnit);
        case Weight:
            if (!r.weight) return {};
            return role == Qt::EditRole ? QVariant(*r.weight) : QVariant(QLocale().toString(*r.weight, 'g', 3));
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (col) {
        case Window: return r.window ? tr("Sliding window ending at each message; type 600, 10m, 2h or 1d") : QVariant();
        case Threshold: return r.threshold ? tr("The rule fires when the count reaches this value") : QVariant();
        case Weight: return r.weight ? tr("Score the hit adds; a message is flagged at score %1").arg(m_rules.decision.threshold) : QVariant();
        default: return r.description;
        }
    }
    return {};
}

bool RuleTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || index.row() >= m_rows.size()) return false;
    RowRef& r = m_rows[index.row()];
    bool changed = false;
    switch (index.column()) {
    case Enabled:
        if (role != Qt::CheckStateRole) return false;
        *r.enabled = value.toInt() == Qt::Checked;
        changed = true;
        break;
    case Window: {
        int s = 0;
        if (!r.window || !parseWindow(value.toString(), s)) return false;
        *r.window = s;
        changed = true;
        break;
    }
    case Threshold: {
        bool ok = false;
        const qlonglong v = value.toLongLong(&ok);
        if (!r.threshold || !ok || v < 1) return false;
        *r.threshold = v;
        changed = true;
        break;
    }
    case Weight: {
        bool ok = false;
        const double v = value.toDouble(&ok);
        if (!r.weight || !ok || v < 0 || v > 100) return false;
        *r.weight = v;
        changed = true;
        break;
    }
    default: return false;
    }
    if (changed) {
        emit dataChanged(this->index(index.row(), 0), this->index(index.row(), ColumnCount - 1));
        emit ruleSetEdited();
    }
    return changed;
}

Qt::ItemFlags RuleTableModel::flags(const QModelIndex& index) const {
    if (!index.isValid() || index.row() >= m_rows.size()) return Qt::NoItemFlags;
    const RowRef& r = m_rows[index.row()];
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    switch (index.column()) {
    case Enabled: f |= Qt::ItemIsUserCheckable; break;
    case Window: if (r.window) f |= Qt::ItemIsEditable; break;
    case Threshold: if (r.threshold) f |= Qt::ItemIsEditable; break;
    case Weight: if (r.weight) f |= Qt::ItemIsEditable; break;
    default: break;
    }
    return f;
}

QVariant RuleTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Enabled: return tr("On");
    case Rule: return tr("Rule");
    case Description: return tr("What it counts");
    case Window: return tr("Window");
    case Threshold: return tr("Threshold");
    case Weight: return tr("Weight");
    }
    return {};
}

} // namespace mt::det
