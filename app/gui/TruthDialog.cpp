#include "TruthDialog.h"

#include "model/MessageTableModel.h"

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace mt::gui {

namespace {

QString num(qint64 n) { return QLocale().toString(n); }

QString negativeTitle(const QString& kind) {
    if (kind == QLatin1String("all-staff")) return TruthDialog::tr("All-staff announcement");
    if (kind == QLatin1String("newsletter")) return TruthDialog::tr("Newsletter");
    if (kind == QLatin1String("reply-all-storm")) return TruthDialog::tr("Reply-all storm");
    if (kind == QLatin1String("mailing-list")) return TruthDialog::tr("Mailing list");
    return kind;
}

QString negativeWhy(const QString& kind) {
    if (kind == QLatin1String("all-staff")) return TruthDialog::tr("one sender to everybody at once");
    if (kind == QLatin1String("newsletter")) return TruthDialog::tr("the same text to many, from outside");
    if (kind == QLatin1String("reply-all-storm")) return TruthDialog::tr("many senders, many recipients, minutes apart");
    if (kind == QLatin1String("mailing-list")) return TruthDialog::tr("a list server re-sending to its members");
    return {};
}

QTableWidget* makeTable(const QStringList& headers, QWidget* parent) {
    auto* t = new QTableWidget(0, int(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setAlternatingRowColors(true);
    t->setShowGrid(false);
    t->setWordWrap(false);
    t->verticalHeader()->hide();
    t->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 8);
    t->horizontalHeader()->setHighlightSections(false);
    t->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    return t;
}

QTableWidgetItem* item(const QString& text, const QString& tooltip = {}) {
    auto* i = new QTableWidgetItem(text);
    if (!tooltip.isEmpty()) i->setToolTip(tooltip);
    return i;
}

QTableWidgetItem* numberItem(qint64 n) {
    auto* i = new QTableWidgetItem;
    i->setData(Qt::DisplayRole, n); // sorts as a number
    i->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return i;
}

} // namespace

QString TruthDialog::wormTitle(sim::Worm worm) {
    switch (worm) {
    case sim::Worm::IloveYou: return QStringLiteral("ILOVEYOU");
    case sim::Worm::Melissa: return QStringLiteral("Melissa");
    case sim::Worm::Polymorphic: return tr("Polymorphic worm");
    case sim::Worm::Disguised: return tr("Disguised worm (budget.xlsx)");
    case sim::Worm::Link: return tr("Link worm (no attachment)");
    case sim::Worm::None: break;
    }
    return tr("None");
}

QString TruthDialog::bareMessageId(const QString& id) {
    QString s = id.trimmed();
    if (s.startsWith(QLatin1Char('<'))) s.remove(0, 1);
    if (s.endsWith(QLatin1Char('>'))) s.chop(1);
    return s;
}

QSet<QString> TruthDialog::wormMessageIds() const {
    QSet<QString> ids;
    ids.reserve(m_truth.wormMessageIds.size());
    for (const QString& id : m_truth.wormMessageIds) ids.insert(bareMessageId(id));
    return ids;
}

QSet<QString> TruthDialog::hardNegativeMessageIds(int row) const {
    QSet<QString> ids;
    if (row < 0 || row >= m_negatives->rowCount()) return ids;
    const int index = m_negatives->item(row, 0)->data(Qt::UserRole).toInt();
    if (index < 0 || index >= m_truth.hardNegatives.size()) return ids;
    for (const QString& id : m_truth.hardNegatives[index].messageIds) ids.insert(bareMessageId(id));
    return ids;
}

TruthDialog::TruthDialog(const sim::Truth& truth, const QString& casePath, QWidget* parent)
    : QDialog(parent), m_truth(truth) {
    setWindowTitle(tr("Drill truth — %1").arg(QFileInfo(casePath).completeBaseName()));
    auto* layout = new QVBoxLayout(this);

    // ------------------------------------------------------------ summary
    const bool worm = m_truth.worm != sim::Worm::None;
    const qint64 started = m_truth.infected.isEmpty() ? 0 : m_truth.infected.first().time;
    QString headline;
    if (!worm)
        headline = tr("No worm in this drill: every message in the case is ordinary mail or legitimate bulk.");
    else
        headline = (m_truth.infected.size() == 1 ? tr("%1 started at <b>%2</b> on %3 UTC and infected %4 user: patient zero "
                                                      "alone.")
                                                 : tr("%1 started at <b>%2</b> on %3 UTC and infected %4 users."))
                       .arg(wormTitle(m_truth.worm).toHtmlEscaped(),
                            m_truth.patientZero.isEmpty() ? tr("(unknown)") : m_truth.patientZero.toHtmlEscaped(),
                            started > 0 ? MessageTableModel::formatTime(started) : tr("(unknown time)"),
                            num(m_truth.infected.size()));
    const QString muted = palette().color(QPalette::PlaceholderText).name();
    auto row = [&muted](const QString& label, const QString& value) {
        return QStringLiteral("<tr><td style=\"padding:1px 16px 1px 0; color:%3\">%1</td>"
                              "<td style=\"padding:1px 0\">%2</td></tr>")
            .arg(label.toHtmlEscaped(), value, muted);
    };
    QString rows;
    rows += row(tr("Worm"), QStringLiteral("<b>%1</b>").arg(wormTitle(m_truth.worm).toHtmlEscaped()));
    if (worm) {
        rows += row(tr("Patient zero"), QStringLiteral("<b>%1</b>").arg(m_truth.patientZero.toHtmlEscaped()));
        rows += row(tr("Started"), started > 0 ? MessageTableModel::formatTime(started) + QStringLiteral(" UTC")
                                               : tr("(unknown)"));
        rows += row(tr("Worm messages"), num(m_truth.wormMessageIds.size()));
        rows += row(tr("Infected users"), tr("%1 (patient zero included)").arg(num(m_truth.infected.size())));
    }
    rows += row(tr("All messages"), num(m_truth.messages));
    rows += row(tr("Seed"), QString::number(m_truth.seed));
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("truthSummary"));
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setText(QStringLiteral("<p style=\"margin-bottom:6px\">%1</p><table>%2</table>").arg(headline, rows));
    layout->addWidget(m_summary);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->setChildrenCollapsible(false);

    // ------------------------------------------------------------ infection chain
    auto* chainBox = new QGroupBox(tr("Infection chain (%1)").arg(num(m_truth.infected.size())), splitter);
    auto* chainLayout = new QVBoxLayout(chainBox);
    m_chain = makeTable({tr("#"), tr("User"), tr("Opened at (UTC)"), tr("Infected by"), tr("Via message")}, chainBox);
    m_chain->setObjectName(QStringLiteral("infectionChain"));
    m_chain->setRowCount(int(m_truth.infected.size()));
    for (int i = 0; i < m_truth.infected.size(); ++i) {
        const sim::Infection& inf = m_truth.infected[i];
        m_chain->setItem(i, 0, numberItem(i + 1));
        m_chain->setItem(i, 1, item(inf.user));
        m_chain->setItem(i, 2, item(MessageTableModel::formatTime(inf.time)));
        if (inf.infectedBy.isEmpty()) {
            auto* pz = item(tr("— patient zero"));
            QFont f = pz->font();
            f.setItalic(true);
            pz->setFont(f);
            m_chain->setItem(i, 3, pz);
        } else {
            m_chain->setItem(i, 3, item(inf.infectedBy));
        }
        const QString via = bareMessageId(inf.viaMessageId);
        m_chain->setItem(i, 4, item(via, via));
    }
    {
        QHeaderView* h = m_chain->horizontalHeader();
        const QFontMetrics fm = m_chain->fontMetrics();
        h->resizeSection(0, fm.horizontalAdvance(QStringLiteral("00000")) + 16);
        h->resizeSection(1, fm.horizontalAdvance(QStringLiteral("firstname.lastname@corp.example")) + 16);
        h->resizeSection(2, fm.horizontalAdvance(QStringLiteral("0000-00-00 00:00:00")) + 24);
        h->resizeSection(3, fm.horizontalAdvance(QStringLiteral("firstname.lastname@corp.example")) + 16);
        h->setStretchLastSection(true);
    }
    m_chain->setToolTip(tr("Double-click a row to show the message that infected that user in the table"));
    m_chain->setSortingEnabled(true);
    m_chain->sortByColumn(0, Qt::AscendingOrder);
    chainLayout->addWidget(m_chain);

    // ------------------------------------------------------------ hard negatives
    auto* negBox = new QGroupBox(tr("Hard negatives: legitimate mail that looks like a worm"), splitter);
    auto* negLayout = new QVBoxLayout(negBox);
    m_negatives = makeTable({tr("Kind"), tr("Messages"), tr("Why it looks like a worm")}, negBox);
    m_negatives->setObjectName(QStringLiteral("hardNegatives"));
    m_negatives->setRowCount(int(m_truth.hardNegatives.size()));
    for (int i = 0; i < m_truth.hardNegatives.size(); ++i) {
        const sim::HardNegative& n = m_truth.hardNegatives[i];
        auto* kind = item(negativeTitle(n.kind), n.kind);
        kind->setData(Qt::UserRole, i);
        m_negatives->setItem(i, 0, kind);
        m_negatives->setItem(i, 1, numberItem(n.messageIds.size()));
        m_negatives->setItem(i, 2, item(negativeWhy(n.kind)));
    }
    {
        QHeaderView* h = m_negatives->horizontalHeader();
        const QFontMetrics fm = m_negatives->fontMetrics();
        h->resizeSection(0, fm.horizontalAdvance(QStringLiteral("All-staff announcement")) + 24);
        h->resizeSection(1, fm.horizontalAdvance(QStringLiteral("Messages")) + 24);
        h->setStretchLastSection(true);
    }
    m_negatives->setToolTip(tr("Double-click a row to show its messages in the table"));
    negLayout->addWidget(m_negatives);
    if (m_truth.hardNegatives.isEmpty()) {
        m_negatives->hide();
        negLayout->addWidget(new QLabel(tr("None in this drill."), negBox));
    }

    splitter->addWidget(chainBox);
    splitter->addWidget(negBox);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    // The hard negatives are a handful of kinds: room for all of them (up to six), the chain gets the rest.
    const int negRows = std::clamp(int(m_truth.hardNegatives.size()), 1, 6);
    const int negHeight = m_negatives->verticalHeader()->defaultSectionSize() * negRows
                          + m_negatives->horizontalHeader()->sizeHint().height() + 2 * m_negatives->frameWidth() + 4;
    m_negatives->setMinimumHeight(negHeight);
    splitter->setSizes({420, negHeight + 40});
    layout->addWidget(splitter, 1);

    // ------------------------------------------------------------ buttons
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_showWorm = buttons->addButton(tr("Show worm messages in table"), QDialogButtonBox::ActionRole);
    m_showWorm->setObjectName(QStringLiteral("showWormMessages"));
    m_showWorm->setEnabled(worm && !m_truth.wormMessageIds.isEmpty());
    m_showWorm->setToolTip(tr("Filter the message table down to the %n worm message(s)", nullptr,
                              int(m_truth.wormMessageIds.size())));
    m_showWorm->setAutoDefault(false);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_showWorm, &QPushButton::clicked, this,
            [this] { emit showMessagesRequested(wormMessageIds(), tr("worm messages")); });
    connect(m_chain, &QTableWidget::cellDoubleClicked, this, [this](int r, int) {
        const QTableWidgetItem* via = m_chain->item(r, 4);
        const QTableWidgetItem* user = m_chain->item(r, 1);
        if (!via || via->text().isEmpty() || !user) return;
        emit showMessagesRequested({via->text()}, tr("message %1 opened").arg(user->text()));
    });
    connect(m_negatives, &QTableWidget::cellDoubleClicked, this, [this](int r, int) {
        const QString kind = m_negatives->item(r, 0)->text();
        emit showMessagesRequested(hardNegativeMessageIds(r), tr("%1 messages").arg(kind.toLower()));
    });

    resize(960, 720);
}

} // namespace mt::gui
