-- Contacts: users created from a channel identity when someone unknown writes to us on a channel.
-- They never log in: no password and no email. Their username is "<channel>:<provider user id>"
-- (a name registration cannot take) and their user_channels row has verified = true and
-- channel_metadata.contact = true.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
