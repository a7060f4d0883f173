// Package device describes, in a few words, the browser and platform a
// sign-in came from ("Firefox on Linux"), so that a user can tell their
// sessions apart (docs/sessions.md, "Your sessions"). The words come from
// fixed lists only: nothing of the User-Agent header itself is kept or
// shown, so a crafted header cannot put text of its own in front of the
// user, and its length does not matter.
package device

import (
	"strings"

	"github.com/mileusna/useragent"
)

// MaxUserAgentBytes caps what is parsed of a User-Agent header: real
// browsers' headers are a few hundred bytes; the rest is ignored.
const MaxUserAgentBytes = 512

// browsers are the browser names shown, by the parser's name for them.
var browsers = map[string]string{
	useragent.Chrome:           "Chrome",
	useragent.HeadlessChrome:   "Headless Chrome",
	useragent.Firefox:          "Firefox",
	useragent.Safari:           "Safari",
	useragent.MobileSafari:     "Safari",
	useragent.Edge:             "Edge",
	useragent.Opera:            "Opera",
	useragent.OperaMini:        "Opera Mini",
	useragent.OperaTouch:       "Opera Touch",
	useragent.Vivaldi:          "Vivaldi",
	useragent.SamsungBrowser:   "Samsung Internet",
	useragent.InternetExplorer: "Internet Explorer",
	useragent.FacebookApp:      "Facebook app",
	useragent.InstagramApp:     "Instagram app",
	useragent.TiktokApp:        "TikTok app",
}

// platforms are the platform names shown, by the parser's name for them.
var platforms = map[string]string{
	useragent.Windows:      "Windows",
	useragent.WindowsPhone: "Windows Phone",
	useragent.Android:      "Android",
	useragent.MacOS:        "macOS",
	useragent.IOS:          "iOS",
	useragent.Linux:        "Linux",
	useragent.FreeBSD:      "FreeBSD",
	useragent.ChromeOS:     "ChromeOS",
	useragent.BlackBerry:   "BlackBerry",
	useragent.Harmony:      "HarmonyOS",
}

// appleDevices name the iOS device, which the platform alone does not.
var appleDevices = map[string]bool{"iPhone": true, "iPad": true}

// Describe is the device of a User-Agent header in a few words:
// "Firefox on Linux", "Safari on iPhone", "Chrome on an unknown
// platform"; "" when neither the browser nor the platform is one it
// knows (an app, a script, no header), which the API shows as unknown.
// Its words come from fixed lists only, so its length is bounded by theirs
// (TestDescriptionsAreFixedWords holds every pair to 64 bytes); nothing
// is cut to fit.
func Describe(userAgent string) string {
	if len(userAgent) > MaxUserAgentBytes {
		userAgent = userAgent[:MaxUserAgentBytes]
	}
	if strings.TrimSpace(userAgent) == "" {
		return ""
	}
	ua := useragent.Parse(userAgent)
	browser, knownBrowser := browsers[ua.Name]
	platform, knownPlatform := platforms[ua.OS]
	if ua.OS == useragent.IOS && appleDevices[ua.Device] {
		platform = ua.Device
	}
	switch {
	case knownBrowser && knownPlatform:
		return browser + " on " + platform
	case knownBrowser:
		return browser + " on an unknown platform"
	case knownPlatform:
		return "An unknown browser on " + platform
	}
	return ""
}
