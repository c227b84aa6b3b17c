"""Where messages leave: email over SMTP, SMS through a provider, merchant webhooks.

Each channel is a small Protocol with its adapters, so a provider can be swapped without the
worker knowing.
"""

from lastmile.notifications.channels.base import (
    EmailSender,
    SendFailed,
    SmsProvider,
    WebhookSender,
)
from lastmile.notifications.channels.email import SmtpEmailSender
from lastmile.notifications.channels.sms import FileSmsProvider, HttpSmsProvider, build_sms_provider
from lastmile.notifications.channels.webhook import HttpWebhookSender

__all__ = [
    "EmailSender",
    "FileSmsProvider",
    "HttpSmsProvider",
    "HttpWebhookSender",
    "SendFailed",
    "SmsProvider",
    "SmtpEmailSender",
    "WebhookSender",
    "build_sms_provider",
]
