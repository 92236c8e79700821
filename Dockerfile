# Jigiya in a container. Build: docker build -t jigiya .
# Run:   docker run -e TELEGRAM_BOT_TOKEN=... -v jigiya-state:/data jigiya
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
