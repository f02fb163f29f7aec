MYSQL = {"host": "db", "user": "app", "password": "secret", "database": "shop"}
