#include "ConfirmDialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

#include <algorithm>

namespace mt::confirm {

namespace {
// At most `max` items, two to a line (explicit lines: a word-wrapped label in a form layout
// gets too little height on a top-level dialog).
QString listed(const QStringList& items, int max) {
    QStringList lines;
    for (int i = 0; i < std::min<int>(max, static_cast<int>(items.size())); i += 2)
        lines << items.mid(i, std::min(2, max - i)).join(QStringLiteral(", "));
    if (items.size() > max) lines << QObject::tr("and %n more", nullptr, static_cast<int>(items.size() - max));
    return lines.join(QLatin1Char('\n'));
}
} // namespace

ConfirmDialog::ConfirmDialog(const PromptInfo& info, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Confirm sending"));
    setModal(true);
    auto* layout = new QVBoxLayout(this);
    layout->setSizeConstraint(QLayout::SetMinimumSize); // never squeeze the recipient lines

    auto* top = new QHBoxLayout;
    auto* icon = new QLabel;
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(48, 48));
    icon->setAlignment(Qt::AlignTop);
    top->addWidget(icon);
    auto* headline = new QLabel(tr("<b>This message needs your confirmation before it is sent.</b><br>%1<br><br>"
                                   "A worm that mails itself from your account would trigger this too. "
                                   "Send only if you meant to send this message.")
                                    .arg(info.reasons.toHtmlEscaped()));
    headline->setWordWrap(true);
    headline->setMinimumWidth(420);
    top->addWidget(headline, 1);
    layout->addLayout(top);

    auto* form = new QFormLayout;
    auto* subject = new QLabel(info.subject.isEmpty() ? tr("(no subject)") : info.subject);
    subject->setWordWrap(true);
    form->addRow(tr("From:"), new QLabel(info.sender));
    form->addRow(tr("Subject:"), subject);
    auto* to = new QLabel(tr("%n recipient(s):", nullptr, static_cast<int>(info.recipients.size())) + QLatin1Char('\n')
                          + listed(info.recipients, 6));
    form->addRow(tr("To:"), to);
    if (!info.attachments.isEmpty()) {
        auto* att = new QLabel(listed(info.attachments, 6));
        form->addRow(tr("Attachments:"), att);
    }
    m_password = new QLineEdit;
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setPlaceholderText(tr("password of your signing key"));
    form->addRow(tr("Password:"), m_password);
    layout->addLayout(form);

    m_error = new QLabel;
    m_error->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_error->hide();
    layout->addWidget(m_error);

    auto* buttons = new QDialogButtonBox;
    QPushButton* send = buttons->addButton(tr("Confirm and send"), QDialogButtonBox::AcceptRole);
    buttons->addButton(tr("Do not send"), QDialogButtonBox::RejectRole);
    send->setEnabled(false);
    connect(m_password, &QLineEdit::textChanged, send, [send](const QString& t) { send->setEnabled(!t.isEmpty()); });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    m_password->setFocus();
}

QString ConfirmDialog::password() const { return m_password->text(); }

void ConfirmDialog::showWrongPassword(int triesLeft) {
    m_error->setText(tr("Wrong password. %n tries left.", nullptr, triesLeft));
    m_error->show();
    m_password->clear();
    m_password->setFocus();
}

} // namespace mt::confirm
