//! A proxy-wasm HTTP filter that lets every request through untouched.
//!
//! It exists to be measured: `scripts/bench-envoy.sh` runs it beside the
//! Tessera filter, so the Tessera filter's cost is seen against the floor
//! any wasm filter pays in this Envoy (entering the VM on every request).
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod glue {
    use proxy_wasm::traits::{Context, HttpContext, RootContext};
    use proxy_wasm::types::{Action, ContextType, LogLevel};

    proxy_wasm::main! {{
        proxy_wasm::set_log_level(LogLevel::Warn);
        proxy_wasm::set_root_context(|_| Box::new(Root));
    }}

    struct Root;

    impl Context for Root {}

    impl RootContext for Root {
        fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Pass))
        }

        fn get_type(&self) -> Option<ContextType> {
            Some(ContextType::HttpContext)
        }
    }

    /// One request: let through as it is.
    struct Pass;

    impl Context for Pass {}

    impl HttpContext for Pass {
        fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
            Action::Continue
        }
    }
}
