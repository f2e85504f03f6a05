"""The instructor's studio: lessons, programs, mail to members, retention, the payment adapter."""
