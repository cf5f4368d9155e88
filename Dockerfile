# keyward in a container: serves /app/routes.yaml (mount your own over it) on port 8080.
FROM denoland/deno:2.9.6
WORKDIR /app
COPY deno.json deno.lock ./
COPY main.ts mod.ts routes.yaml ./
COPY src ./src
RUN deno install --frozen --entrypoint main.ts
ENV KEYWARD_HOSTNAME=0.0.0.0
EXPOSE 8080
USER deno
CMD ["deno", "run", "--allow-net", "--allow-env", "--allow-read=/app", "--ignore-env=LOG_TOKENS,LOG_STREAM", "main.ts", "serve", "--config", "/app/routes.yaml"]
