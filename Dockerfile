# Jigiya in a container. Build: docker build -t jigiya .
# The key (BOT_SECRET) comes as a Docker secret named bot_secret, mode 0400, owned by uid 10001
# (the bot refuses a key file other users may read); the bot reads /run/secrets/bot_secret.
#   (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >bot_secret)
#   sudo chown 10001 bot_secret && sudo chmod 0400 bot_secret
# Compose mounts a file secret as it is on the host, so the above is all it needs:
#   compose.yaml: services.jigiya.secrets: [bot_secret]; secrets.bot_secret.file: ./bot_secret
# Swarm: docker secret create bot_secret bot_secret, then
#   --secret source=bot_secret,target=bot_secret,uid=10001,mode=0400
# Upgrading from a version that kept the key in the volume (/data/secret.key)? Use that file as
# bot_secret instead of a new key (a new key cannot read the stored data), then delete it from the
# volume: the bot refuses to start while it is there. Keep the key out of the volume and out of its
# backups. Without a secret, a key is generated inside the container and lost with it.
# Run (data in the jigiya-state volume, plus the secret as above):
#   docker run -e TELEGRAM_BOT_TOKEN=... -v jigiya-state:/data jigiya
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 jigiya
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY state ./state
COPY locales ./locales
COPY content ./content
RUN pip install --no-cache-dir -c constraints.txt . \
    && python -c "from bot.i18n import load_catalogs; load_catalogs()"

ENV BOT_DB_PATH=/data/jigiya.sqlite3 \
    PYTHONUNBUFFERED=1
RUN mkdir /data && chown jigiya /data
VOLUME /data
USER jigiya
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run"]
