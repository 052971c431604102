// goclient: Go's net/http client as the tests' load: keep-alive goroutines on one
// Transport (its own retry rules, nothing added), and goroutines that open a new
// connection per request. Runs for -duration, then prints one line of totals and, with -numbers, every visitor number a 200 carried.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var visitorRe = regexp.MustCompile(`You are visitor number (\d+)`)

type totals struct {
	ok, other, failed atomic.Int64
	mu                sync.Mutex
	numbers           []string
	errors            map[string]int
}

func (t *totals) get(c *http.Client, url string, keepNumbers bool) {
	resp, err := c.Get(url)
	if err != nil {
		t.mu.Lock()
		t.errors[err.Error()]++
		t.mu.Unlock()
		t.failed.Add(1)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		t.failed.Add(1)
	case resp.StatusCode == 200:
		t.ok.Add(1)
		if keepNumbers {
			if m := visitorRe.FindSubmatch(body); m != nil {
				t.mu.Lock()
				t.numbers = append(t.numbers, string(m[1]))
				t.mu.Unlock()
			}
		}
	default:
		t.other.Add(1)
	}
}

func main() {
	url := flag.String("url", "", "the URL to GET")
	keepAlive := flag.Int("c", 8, "keep-alive goroutines")
	fresh := flag.Int("fresh", 0, "goroutines that open a new connection per request")
	duration := flag.Duration("duration", 5*time.Second, "how long to run")
	numbers := flag.Bool("numbers", false, "print every visitor number a 200 carried")
	flag.Parse()

	t := &totals{errors: map[string]int{}}
	stop := make(chan struct{})
	time.AfterFunc(*duration, func() { close(stop) })

	shared := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *keepAlive}, Timeout: 10 * time.Second}
	freshClient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	run := func(c *http.Client) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				t.get(c, *url, *numbers)
			}
		}
	}
	for i := 0; i < *keepAlive; i++ {
		wg.Add(1)
		go run(shared)
	}
	for i := 0; i < *fresh; i++ {
		wg.Add(1)
		go run(freshClient)
	}
	wg.Wait()

	fmt.Printf("ok=%d other=%d failed=%d\n", t.ok.Load(), t.other.Load(), t.failed.Load())
	keys := make([]string, 0, len(t.errors))
	for k := range t.errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("error %dx: %s\n", t.errors[k], k)
	}
	if *numbers {
		for _, n := range t.numbers {
			fmt.Println(n)
		}
	}
}
