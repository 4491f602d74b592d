"""gunicorn's settings in the Docker image (Dockerfile: `gunicorn -c config/gunicorn.py config.wsgi:application`).

The number of workers is WEB_CONCURRENCY, which gunicorn reads itself (docker-compose.yml sets 3).
"""

bind = "0.0.0.0:8000"
timeout = 60
accesslog = "-"
# The access log names the path without its query string, and leaves out the Referer: a query can carry what someone
# typed into a search box (a surname in the staff's member search), and a Referer is the previous page's address with
# its query. The HTTPS proxy's own log needs the same care (README, «Продакшен»).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
