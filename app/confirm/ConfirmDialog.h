#pragma once
// The confirmation prompt of the sending side (claims 27-34): says why the message needs the
// user's confirmation, whom it goes to, and takes the password that unlocks the user's signing
// key. Cancel (or closing it) means: not sent.
#include <QDialog>

class QLabel;
class QLineEdit;

namespace mt::confirm {

struct PromptInfo {
    QString sender;
    QString subject;
    QStringList recipients;
    QStringList attachments;
    QString reasons;       // the criteria met, in words
};

class ConfirmDialog : public QDialog {
    Q_OBJECT
public:
    explicit ConfirmDialog(const PromptInfo& info, QWidget* parent = nullptr);
    QString password() const;
    // After a wrong password: says so and clears the field for another try.
    void showWrongPassword(int triesLeft);

private:
    QLineEdit* m_password = nullptr;
    QLabel* m_error = nullptr;
};

} // namespace mt::confirm
