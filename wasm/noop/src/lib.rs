//! A proxy-wasm HTTP filter that lets every request through untouched, or,
//! configured with `{"authenticate": true}`, does the least that any filter
//! which authenticates a request must do: read its `authorization` header,
//! answer 401 without one, and hand one identity header on with one.
//!
//! It exists to be measured: `scripts/bench-envoy.sh` runs it beside the
//! Tessera filter. Untouched, it is the floor any wasm filter pays in this
//! Envoy (entering the VM on every request); authenticating, it is the floor
//! of any token filter (two host calls more), without parsing, hashing or
//! looking anything up.
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod glue {
    use proxy_wasm::traits::{Context, HttpContext, RootContext};
    use proxy_wasm::types::{Action, ContextType, LogLevel};

    proxy_wasm::main! {{
        proxy_wasm::set_log_level(LogLevel::Warn);
        proxy_wasm::set_root_context(|_| Box::new(Root { authenticate: false }));
    }}

    /// The plugin: whether it authenticates its requests (the floor of a
    /// token filter) or passes them on untouched.
    struct Root {
        authenticate: bool,
    }

    impl Context for Root {}

    impl RootContext for Root {
        fn on_configure(&mut self, _: usize) -> bool {
            let config = self.get_plugin_configuration().unwrap_or_default();
            // A plain text match, not a JSON reader: this filter exists for
            // the bench, which writes `{"authenticate": true}` and checks
            // that a request without a token is refused (401) before it
            // measures anything.
            let text = String::from_utf8_lossy(&config);
            self.authenticate = text.replace(' ', "").contains("\"authenticate\":true");
            true
        }

        fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Pass {
                authenticate: self.authenticate,
            }))
        }

        fn get_type(&self) -> Option<ContextType> {
            Some(ContextType::HttpContext)
        }
    }

    /// One request: let through as it is, or, authenticating, with an
    /// identity header when it carries an `authorization` header (and
    /// refused when not).
    struct Pass {
        authenticate: bool,
    }

    impl Context for Pass {}

    impl HttpContext for Pass {
        fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
            if !self.authenticate {
                return Action::Continue;
            }
            if self
                .get_http_request_header_bytes("authorization")
                .is_none()
            {
                self.send_http_response(401, vec![], None);
                return Action::Pause;
            }
            self.set_http_request_header("x-tessera-user-id", Some("floor"));
            Action::Continue
        }
    }
}
