#include "DrillDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace mt::gui {

DrillDialog::DrillDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("New drill"));
    auto* layout = new QVBoxLayout(this);

    auto* intro = new QLabel(tr("Generates the mail of a simulated organisation — with a worm outbreak hidden in it, "
                                "or none — as its Postfix servers would have logged it, and imports it into a new "
                                "case. The answer stays hidden until <b>Drill › Show truth…</b>."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* form = new QFormLayout;
    layout->addLayout(form);

    m_worm = new QComboBox(this);
    m_worm->addItem(tr("ILOVEYOU — a .vbs to the whole address book"), QVariant::fromValue(int(sim::Worm::IloveYou)));
    m_worm->addItem(tr("Melissa — a macro document to the first 50 contacts"), QVariant::fromValue(int(sim::Worm::Melissa)));
    m_worm->addItem(tr("Polymorphic — subject and attachment change per victim"),
                    QVariant::fromValue(int(sim::Worm::Polymorphic)));
    m_worm->addItem(tr("Disguised — the same file as budget.xlsx, an ordinary name"), QVariant::fromValue(int(sim::Worm::Disguised)));
    m_worm->addItem(tr("Link — no attachment, a changing lure, one contact a minute"), QVariant::fromValue(int(sim::Worm::Link)));
    m_worm->addItem(tr("None — ordinary mail and legitimate bulk only"), QVariant::fromValue(int(sim::Worm::None)));
    form->addRow(tr("&Worm:"), m_worm);

    m_users = new QSpinBox(this);
    m_users->setRange(50, 5000);
    m_users->setSingleStep(50);
    m_users->setValue(300);
    m_users->setGroupSeparatorShown(true);
    m_users->setSuffix(tr(" users"));
    form->addRow(tr("&Users:"), m_users);

    m_servers = new QSpinBox(this);
    m_servers->setRange(1, 8);
    m_servers->setValue(4);
    m_servers->setSuffix(tr(" mail servers"));
    form->addRow(tr("&Servers:"), m_servers);

    m_hours = new QSpinBox(this);
    m_hours->setRange(1, 24);
    m_hours->setValue(8);
    m_hours->setSuffix(tr(" hours of logs"));
    form->addRow(tr("&Duration:"), m_hours);

    m_openProbability = new QDoubleSpinBox(this);
    m_openProbability->setRange(0.0, 1.0);
    m_openProbability->setDecimals(2);
    m_openProbability->setSingleStep(0.05);
    m_openProbability->setValue(0.2);
    m_openProbability->setToolTip(tr("The chance that a recipient of the worm opens its attachment"));
    form->addRow(tr("&Open probability:"), m_openProbability);

    auto* seedRow = new QHBoxLayout;
    m_seed = new QLineEdit(this);
    m_seed->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{1,19}")), m_seed));
    m_seed->setText(QString::number(randomDrillSeed()));
    m_seed->setToolTip(tr("The same seed and settings give the same drill: note it to run the drill again"));
    auto* dice = new QToolButton(this);
    dice->setText(tr("New seed"));
    dice->setToolTip(tr("Pick another random seed"));
    seedRow->addWidget(m_seed, 1);
    seedRow->addWidget(dice);
    auto* seedLabel = new QLabel(tr("S&eed:"), this);
    seedLabel->setBuddy(m_seed); // a row of a layout gets no buddy by itself: the & would show
    form->addRow(seedLabel, seedRow);

    auto* pathRow = new QHBoxLayout;
    m_casePath = new QLineEdit(this);
    m_casePath->setMinimumWidth(m_casePath->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 56);
    auto* browseButton = new QPushButton(tr("&Browse…"), this);
    pathRow->addWidget(m_casePath, 1);
    pathRow->addWidget(browseButton);
    auto* pathLabel = new QLabel(tr("&Case file:"), this);
    pathLabel->setBuddy(m_casePath);
    form->addRow(pathLabel, pathRow);

    m_logs = new QLabel(this);
    m_logs->setWordWrap(true);
    m_logs->setTextInteractionFlags(Qt::TextSelectableByMouse);
    {
        QPalette p = m_logs->palette();
        p.setColor(QPalette::WindowText, p.color(QPalette::PlaceholderText));
        m_logs->setPalette(p);
    }
    form->addRow(tr("Logs:"), m_logs);

    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("color:#b00020"));
    m_problem->hide();
    layout->addWidget(m_problem);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Run drill"));
    layout->addWidget(m_buttons);

    connect(dice, &QToolButton::clicked, this, &DrillDialog::newSeed);
    connect(browseButton, &QPushButton::clicked, this, &DrillDialog::browse);
    connect(m_worm, &QComboBox::currentIndexChanged, this, &DrillDialog::updateDefaultPath);
    connect(m_seed, &QLineEdit::textChanged, this, &DrillDialog::updateDefaultPath);
    connect(m_casePath, &QLineEdit::textEdited, this, [this] { m_pathEdited = true; });
    connect(m_casePath, &QLineEdit::textChanged, this, &DrillDialog::validate);
    connect(m_servers, &QSpinBox::valueChanged, this, &DrillDialog::validate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (problem().isEmpty()) accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    updateDefaultPath();
}

sim::Worm DrillDialog::worm() const { return static_cast<sim::Worm>(m_worm->currentData().toInt()); }

std::uint64_t DrillDialog::seed(bool* ok) const { return m_seed->text().toULongLong(ok); }

void DrillDialog::newSeed() { m_seed->setText(QString::number(randomDrillSeed())); }

void DrillDialog::browse() {
    QString path = QFileDialog::getSaveFileName(this, tr("Drill case"), m_casePath->text(),
                                                tr("MailTriage cases (*.mtcase)"), nullptr,
                                                QFileDialog::DontConfirmOverwrite);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".mtcase");
    m_pathEdited = true;
    m_casePath->setText(QDir::toNativeSeparators(path));
}

void DrillDialog::updateDefaultPath() {
    bool ok = false;
    const std::uint64_t s = seed(&ok);
    if (!m_pathEdited && ok) m_casePath->setText(QDir::toNativeSeparators(defaultDrillCasePath(worm(), s)));
    validate();
}

QString DrillDialog::problem() const {
    bool ok = false;
    seed(&ok);
    if (!ok) return tr("The seed must be a whole number.");
    const QString path = QDir::fromNativeSeparators(m_casePath->text().trimmed());
    if (path.isEmpty()) return tr("Choose where to save the case.");
    const QFileInfo fi(path);
    if (fi.isDir()) return tr("The case file is a folder; give a file name.");
    if (fi.exists()) return tr("That case already exists. A drill never overwrites a case: choose another name.");
    return {};
}

void DrillDialog::validate() {
    const QString path = QDir::fromNativeSeparators(m_casePath->text().trimmed());
    m_logs->setText(path.isEmpty() ? QString()
                                   : tr("%1  (org.csv, mail1..%2.log and truth.json)")
                                         .arg(QDir::toNativeSeparators(drillLogsDir(path)))
                                         .arg(m_servers->value()));
    const QString why = problem();
    m_problem->setText(why);
    m_problem->setVisible(!why.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

DrillRequest DrillDialog::request() const {
    DrillRequest r;
    r.casePath = QDir::fromNativeSeparators(m_casePath->text().trimmed());
    if (!r.casePath.isEmpty() && QFileInfo(r.casePath).suffix().isEmpty()) r.casePath += QStringLiteral(".mtcase");
    r.options.outDir = r.casePath.isEmpty() ? QString() : drillLogsDir(r.casePath);
    r.options.users = m_users->value();
    r.options.servers = m_servers->value();
    r.options.hours = m_hours->value();
    r.options.seed = seed();
    r.options.worm = worm();
    r.options.openProbability = m_openProbability->value();
    return r;
}

void DrillDialog::setRequest(const DrillRequest& r) {
    const int wi = m_worm->findData(QVariant::fromValue(int(r.options.worm)));
    if (wi >= 0) m_worm->setCurrentIndex(wi);
    m_users->setValue(r.options.users);
    m_servers->setValue(r.options.servers);
    m_hours->setValue(int(r.options.hours));
    m_openProbability->setValue(r.options.openProbability);
    m_seed->setText(QString::number(r.options.seed));
    if (!r.casePath.isEmpty()) {
        m_pathEdited = true;
        m_casePath->setText(QDir::toNativeSeparators(r.casePath));
    }
    validate();
}

} // namespace mt::gui
