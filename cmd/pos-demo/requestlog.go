package main

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// requestLog logs one line per request. It runs in e.Pre, before the kit
// takes the tab prefix off the path, so the line shows the path the
// browser asked for.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			r := c.Request()
			method, path := r.Method, r.URL.Path
			if err := next(c); err != nil {
				// Answer the error here, so the status logged is the
				// status sent.
				c.Error(err)
			}
			res := c.Response()
			log.Info("request", "method", method, "path", path, "status", res.Status,
				"duration", time.Since(start), "bytes", res.Size)
			return nil
		}
	}
}
