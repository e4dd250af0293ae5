// Package web holds the browser-side assets of tabkit: the stylesheet of
// the point-of-sale demo and tabs.js, the optional script that gives a
// duplicated browser tab a tab number of its own.
//
// Static is the web/static directory, embedded, rooted so that
// "tabs.js" names web/static/tabs.js. Serve it under /static/, which the
// kit never tab-scopes:
//
//	e.StaticFS("/static/", web.Static)
//
// and load the script on pages that live under a tab prefix:
//
//	<script src="/static/tabs.js" defer></script>
//
// # Security
//
// tabs.js sends one request, POST /N/_tabkit/fork with the X-Tabkit-Fork
// header and same-origin credentials; the kit refuses it from other sites.
// It stores nothing but the tab number it holds, in sessionStorage.
//
// # Caveats
//
// Without JavaScript, or in a browser without BroadcastChannel, duplicated
// browser tabs keep sharing one tab number and its data.
package web
