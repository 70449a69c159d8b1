"""Sign-in dialog: pick a user, type the password; the role decides what the console offers."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.session import Session, SignInError, list_users, sign_in
from widgets.display import user_text
from widgets.main_window import ROLE_TITLES


class LoginDialog(QDialog):
    def __init__(self, store_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("万米 数字城管 — 登录")
        self.store_path = store_path
        self.session: Session | None = None
        self.user = QComboBox()
        for uid, name, role in list_users(store_path):
            self.user.addItem(f"{name}（{ROLE_TITLES.get(role, role)}）— {uid}", uid)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c00;")
        form = QFormLayout()
        form.addRow("用户", self.user)
        form.addRow("密码", self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("登录")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        title = QLabel("数字化城市管理监督指挥平台")
        title.setStyleSheet("font-size: 18pt; font-weight: bold; padding: 8px;")
        box.addWidget(title)
        box.addLayout(form)
        box.addWidget(self.error)
        box.addWidget(buttons)
        self.resize(460, 220)

    def try_sign_in(self) -> None:
        try:
            self.session = sign_in(self.store_path, self.user.currentData(), self.password.text())
        except SignInError as exc:
            self.error.setText(user_text(str(exc)))
            self.error.setToolTip(str(exc))
            return
        self.accept()
